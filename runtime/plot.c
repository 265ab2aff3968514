/* plot.c: line charts of the training curves as SVG, one panel per
 * quantity (loss, accuracy) side by side, x the epoch. Plain SVG 1.1 with
 * text in a generic font, so browsers and rsvg-convert draw it alike. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt_internal.h"
#include "cnnrt_train.h"

/* Geometry in SVG user units (pixels). */
#define PANEL_W 440
#define PANEL_H 330
#define TITLE_H 36
#define MARGIN_L 66 /* y tick labels and the y-axis label */
#define MARGIN_R 18
#define MARGIN_T 34 /* the panel's title */
#define MARGIN_B 76 /* x tick labels, x-axis label, legend */

static const char *const colors[4] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                      "#d62728"};
static const char *const dashes[4] = {"", "6,4", "", "2,3"};

/* Text for an SVG element's content or attribute. */
static void put_escaped(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default:
      /* Control characters are not allowed in XML 1.0. */
      fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
    }
  }
}

/* A tick spacing of 1, 2 or 5 times a power of ten giving about `ticks`
 * intervals over range. */
static double nice_step(double range, int ticks) {
  double raw = range / ticks;
  double p = pow(10, floor(log10(raw)));
  double f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Decimals needed to print multiples of step exactly enough. */
static int decimals_for(double step) {
  int d = (int)ceil(-log10(step) - 1e-9);
  return d < 0 ? 0 : d > 6 ? 6 : d;
}

typedef struct frame {
  double x0, y0, w, h;       /* the plot area in pixels */
  double xmin, xmax, ymin, ymax; /* what it shows */
} frame;

static double px(const frame *fr, double x) {
  return fr->x0 + (x - fr->xmin) / (fr->xmax - fr->xmin) * fr->w;
}

static double py(const frame *fr, double y) {
  return fr->y0 + fr->h - (y - fr->ymin) / (fr->ymax - fr->ymin) * fr->h;
}

/* color is the index of the panel's first series among all panels', so
 * that each line of the figure has a color of its own. */
static void draw_panel(FILE *f, const cnnrt_panel *pan, double left,
                       double top, size_t n, int color) {
  /* Half an epoch of margin keeps the first and last points off the frame
   * (less, relatively, for long runs). */
  double xpad = n > 10 ? 0.03 * (double)(n - 1) : 0.3;
  frame fr = {left + MARGIN_L, top + MARGIN_T,
              PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B,
              1 - xpad, (n > 1 ? (double)n : 1) + xpad, INFINITY, -INFINITY};
  for (int s = 0; s < pan->n_series; s++)
    for (size_t i = 0; i < n; i++) {
      double v = pan->series[s].values[i];
      if (isfinite(v)) {
        fr.ymin = fmin(fr.ymin, v);
        fr.ymax = fmax(fr.ymax, v);
      }
    }
  if (!(fr.ymin <= fr.ymax)) { /* nothing to show yet */
    fr.ymin = 0;
    fr.ymax = 1;
  }
  double pad = (fr.ymax - fr.ymin) * 0.08;
  if (pad == 0)
    pad = fabs(fr.ymax) > 0 ? fabs(fr.ymax) * 0.1 : 1;
  fr.ymin -= pad;
  fr.ymax += pad;
  double ystep = nice_step(fr.ymax - fr.ymin, 5);
  fr.ymin = floor(fr.ymin / ystep) * ystep;
  fr.ymax = ceil(fr.ymax / ystep) * ystep;

  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\" "
             "font-weight=\"bold\" text-anchor=\"middle\">",
          fr.x0 + fr.w / 2, top + 22.0);
  put_escaped(f, pan->title);
  fputs("</text>\n", f);

  /* Grid and y ticks. */
  int yd = decimals_for(ystep);
  for (double y = fr.ymin; y <= fr.ymax + ystep * 1e-6; y += ystep) {
    double yy = py(&fr, y);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"#e3e3e3\"/>\n",
            fr.x0, yy, fr.x0 + fr.w, yy);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
               "text-anchor=\"end\">%.*f</text>\n",
            fr.x0 - 6, yy + 4, yd, fabs(y) < ystep * 1e-6 ? 0.0 : y);
  }
  /* x ticks: whole epochs, thinned to at most about ten. */
  double xstep = n > 10 ? ceil(nice_step((double)n - 1, 8)) : 1;
  for (double x = n > 10 ? xstep : 1; x <= (double)(n > 1 ? n : 1) + 1e-9;
       x += xstep) {
    double xx = px(&fr, x);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"#e3e3e3\"/>\n",
            xx, fr.y0, xx, fr.y0 + fr.h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
               "text-anchor=\"middle\">%.0f</text>\n",
            xx, fr.y0 + fr.h + 17, x);
  }
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
             "fill=\"none\" stroke=\"#333\"/>\n",
          fr.x0, fr.y0, fr.w, fr.h);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" "
             "text-anchor=\"middle\">epoch</text>\n",
          fr.x0 + fr.w / 2, fr.y0 + fr.h + 36);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" "
             "text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">",
          left + 16, fr.y0 + fr.h / 2, left + 16, fr.y0 + fr.h / 2);
  put_escaped(f, pan->y_label);
  fputs("</text>\n", f);

  /* The series: a polyline broken at gaps, and a dot per epoch. */
  for (int s = 0; s < pan->n_series; s++) {
    const double *v = pan->series[s].values;
    const char *rgb = colors[(color + s) % 4], *dash = dashes[s % 4];
    for (size_t i = 0; i < n;) {
      while (i < n && !isfinite(v[i]))
        i++;
      size_t start = i;
      while (i < n && isfinite(v[i]))
        i++;
      if (i - start > 1) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s%s%s points=\"",
                rgb, *dash ? " stroke-dasharray=\"" : "", dash,
                *dash ? "\"" : "");
        for (size_t j = start; j < i; j++)
          fprintf(f, "%s%.1f,%.1f", j > start ? " " : "",
                  px(&fr, (double)j + 1), py(&fr, v[j]));
        fputs("\"/>\n", f);
      }
    }
    for (size_t i = 0; i < n; i++)
      if (isfinite(v[i]))
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                px(&fr, (double)i + 1), py(&fr, v[i]), rgb);
  }

  /* The legend, in a row under the axis label. */
  double lx = fr.x0, ly = fr.y0 + fr.h + 60;
  for (int s = 0; s < pan->n_series; s++) {
    const char *dash = dashes[s % 4];
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n",
            lx, ly - 4, lx + 24, ly - 4, colors[(color + s) % 4],
            *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", lx + 30, ly);
    put_escaped(f, pan->series[s].label);
    fputs("</text>\n", f);
    lx += 30 + 7.0 * (double)strlen(pan->series[s].label) + 24;
  }
}

int cnnrt_plot_svg(const char *path, const char *title,
                   const cnnrt_panel *panels, int n_panels, size_t n) {
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  if (!f)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  int width = PANEL_W * n_panels, height = TITLE_H + PANEL_H;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
             "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
             "font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
             "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          width, height, width, height);
  fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"17\" "
             "text-anchor=\"middle\">",
          width / 2);
  put_escaped(f, title);
  fputs("</text>\n", f);
  for (int i = 0, color = 0; i < n_panels; color += panels[i].n_series, i++)
    draw_panel(f, &panels[i], (double)i * PANEL_W, TITLE_H, n, color);
  fputs("</svg>\n", f);
  if (fclose(f) != 0) {
    free(text);
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  }
  int st = cnnrt_write_file_atomic(path, text, size);
  free(text);
  return st;
}
