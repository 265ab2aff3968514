/* progress.c: the trainer's progress bar, drawn on a terminal only. */
#define _POSIX_C_SOURCE 200809L /* fileno */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cnnrt_train.h"

#define BAR_WIDTH 24
#define REDRAW_SECONDS 0.1

void cnnrt_progress_start(cnnrt_progress *p, FILE *out, uint64_t done_steps) {
  p->out = out;
  p->tty = isatty(fileno(out));
  p->started = cnnrt_seconds();
  p->last_draw = 0;
  p->first_step = done_steps;
}

/* "1:05:09", "4:02" or "0:07". */
static void format_duration(char *buf, size_t size, double seconds) {
  long s = seconds > 0 && seconds < 1e8 ? (long)(seconds + 0.5) : 0;
  if (s >= 3600)
    snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

void cnnrt_progress_update(cnnrt_progress *p, int e, int epochs, size_t step,
                           size_t steps, double loss, uint64_t done,
                           uint64_t total, int batch) {
  if (!p->tty)
    return;
  double now = cnnrt_seconds();
  if (now - p->last_draw < REDRAW_SECONDS && step != steps)
    return;
  p->last_draw = now;
  double elapsed = now - p->started;
  uint64_t timed = done - p->first_step;
  double per_step = timed ? elapsed / (double)timed : 0;
  char bar[BAR_WIDTH + 1], eta[32];
  size_t filled = steps ? step * BAR_WIDTH / steps : 0;
  for (size_t i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
  bar[BAR_WIDTH] = '\0';
  if (timed)
    format_duration(eta, sizeof eta, per_step * (double)(total - done));
  else
    strcpy(eta, "?");
  /* \r returns to the line's start; \033[K erases what a longer line left. */
  fprintf(p->out,
          "\repoch %d/%d [%s] %zu/%zu  loss %.4f  %.0f samples/s  ETA %s"
          "\033[K",
          e, epochs, bar, step, steps, loss,
          per_step > 0 ? batch / per_step : 0.0, eta);
  fflush(p->out);
}

void cnnrt_progress_clear(cnnrt_progress *p) {
  if (!p->tty)
    return;
  fputs("\r\033[K", p->out);
  fflush(p->out);
}
