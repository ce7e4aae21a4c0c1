/* SPDX-License-Identifier: MPL-2.0 */
/* im_exercise_report_svg.c -- one participant's timeline as a self-contained
 * SVG 1.1 document: a time axis from the exercise's start to its end (or its
 * latest event) ticked in minutes, a triangle per inject sent to the
 * participant (an inject sent to others only is not drawn), a circle per
 * ack, a square per action coloured by kind, a title and a legend. All text
 * from the state is XML-escaped; each marker's <title> gives its details. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "im_exercise_report_int.h"
#include "im_time.h"

#define SVG_WIDTH 1000
#define SVG_HEIGHT 300
#define PLOT_LEFT 90.0
#define PLOT_RIGHT 970.0
#define LANE_INJECT 90
#define LANE_ACK 130
#define LANE_ACTION 170
#define AXIS_Y 200
#define TICKS_MAX 12

static const char *const action_colours[EX_ACTIONS] = {
    [EX_DETECTED] = "#1f77b4",
    [EX_BLOCKED] = "#d62728",
    [EX_MITIGATED] = "#2ca02c",
    [EX_ESCALATED] = "#ff7f0e",
};
#define INJECT_COLOUR "#6a3d9a"
#define ACK_COLOUR "#7f7f7f"

/* Writes S as XML character data: & < > " ' as entities, and the characters
 * XML 1.0 does not allow (controls but TAB, LF and CR; U+FFFE, U+FFFF) as
 * U+FFFD. S is valid UTF-8. */
static void
xml_text (FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&')
            fputs ("&amp;", out);
        else if (c == '<')
            fputs ("&lt;", out);
        else if (c == '>')
            fputs ("&gt;", out);
        else if (c == '"')
            fputs ("&quot;", out);
        else if (c == '\'')
            fputs ("&apos;", out);
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            fputs ("\xef\xbf\xbd", out);
        else if (c == 0xef && (unsigned char)s[1] == 0xbf
                 && ((unsigned char)s[2] == 0xbe || (unsigned char)s[2] == 0xbf)) {
            fputs ("\xef\xbf\xbd", out);
            s += 2;
        }
        else
            fputc (c, out);
    }
}

static double
x_of (const ex_model_t *m, int64_t t)
{
    return PLOT_LEFT
           + (double)(t - m->start) * (PLOT_RIGHT - PLOT_LEFT)
                 / (double)(m->axis_end - m->start);
}

/* The tick step, in minutes: the smallest of a round set that gives at most
 * TICKS_MAX steps over the axis, else whole days. */
static int64_t
tick_step (int64_t span)
{
    static const int64_t steps[]
        = { 1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / (steps[i] * 60) <= TICKS_MAX)
            return steps[i];
    return (span / 60 / TICKS_MAX / 1440 + 1) * 1440;
}

static void
svg_axis (FILE *out, const ex_model_t *m)
{
    char a[IM_TIME_STR_SIZE];
    int64_t span = m->axis_end - m->start, step = tick_step (span);
    fprintf (out,
             "<g id=\"axis\" stroke=\"#333\" font-size=\"11\">\n"
             "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
             PLOT_LEFT, AXIS_Y, PLOT_RIGHT, AXIS_Y);
    for (int64_t min = 0; min * 60 <= span; min += step) {
        double x = x_of (m, m->start + min * 60);
        fprintf (out,
                 "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                 "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" stroke=\"none\">"
                 "%lld</text>\n",
                 x, AXIS_Y, x, AXIS_Y + 6, x, AXIS_Y + 20, (long long)min);
    }
    fprintf (out,
             "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" stroke=\"none\">minutes "
             "since the start, %s</text>\n</g>\n",
             (PLOT_LEFT + PLOT_RIGHT) / 2, AXIS_Y + 38, im_time_format (m->start, a));
    if (m->axis_end > m->end) { /* late events: where the exercise ended */
        double x = x_of (m, m->end);
        fprintf (out,
                 "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" "
                 "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"11\" "
                 "text-anchor=\"middle\">end</text>\n",
                 x, LANE_INJECT - 18, x, AXIS_Y, x, LANE_INJECT - 22);
    }
    fprintf (out,
             "<g font-size=\"12\" fill=\"#333\">"
             "<text x=\"10\" y=\"%d\">injects</text><text x=\"10\" y=\"%d\">acks</text>"
             "<text x=\"10\" y=\"%d\">actions</text></g>\n",
             LANE_INJECT + 4, LANE_ACK + 4, LANE_ACTION + 4);
}

/* Marker shapes: a triangle, a circle, a square, centred on (X, Y). */
static void
triangle (FILE *out, double x, int y, const char *fill)
{
    fprintf (out, "<polygon points=\"%.1f,%d %.1f,%d %.1f,%d\" fill=\"%s\">", x, y - 6,
             x - 6, y + 5, x + 6, y + 5, fill);
}

static void
circle (FILE *out, double x, int y, const char *fill)
{
    fprintf (out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\" stroke=\"#333\">", x,
             y, fill);
}

static void
square (FILE *out, double x, int y, const char *fill)
{
    fprintf (out, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\">",
             x - 5, y - 5, fill);
}

static void
svg_markers (FILE *out, const ex_model_t *m, size_t p)
{
    char t[IM_TIME_STR_SIZE], d[32];
    fputs ("<g id=\"injects\">\n", out);
    for (size_t i = 0; i < m->ninjects; i++) {
        const ex_inject_t *x = &m->injects[i];
        if (!ex_sent_to (m, i, p))
            continue; /* sent to others only */
        triangle (out, x_of (m, x->sent), LANE_INJECT, INJECT_COLOUR);
        fprintf (out, "<title>inject %s sent %s (%s, TLP:%s): ", x->id,
                 im_time_format (x->sent, t), x->kind, x->tlp);
        xml_text (out, x->label);
        fputs ("</title></polygon>\n", out);
    }
    fputs ("</g>\n<g id=\"acks\">\n", out);
    for (size_t i = 0; i < m->ninjects; i++) {
        const ex_inject_t *x = &m->injects[i];
        int64_t at = m->ack[p * m->ninjects + i];
        if (at == EX_NONE || !ex_sent_to (m, i, p))
            continue;
        ex_duration ((double)(at - x->sent), d, sizeof d);
        circle (out, x_of (m, at), LANE_ACK, ACK_COLOUR);
        fprintf (out, "<title>ack of inject %s at %s, %s after sending: ", x->id,
                 im_time_format (at, t), d);
        xml_text (out, x->label);
        fputs ("</title></circle>\n", out);
    }
    fputs ("</g>\n<g id=\"actions\" stroke=\"#333\">\n", out);
    for (size_t i = 0; i < m->nevents; i++) {
        const ex_event_t *e = &m->events[i];
        if (e->party != p || e->kind != EX_ACTION)
            continue;
        const ex_inject_t *x = &m->injects[e->inject];
        square (out, x_of (m, e->at), LANE_ACTION, action_colours[e->action]);
        fprintf (out, "<title>%s on inject %s at %s: ", ex_action_names[e->action], x->id,
                 im_time_format (e->at, t));
        xml_text (out, x->label);
        if (e->note) {
            fputs (" (note: ", out);
            xml_text (out, e->note);
            fputs (")", out);
        }
        fputs ("</title></rect>\n", out);
    }
    fputs ("</g>\n", out);
}

static void
svg_legend (FILE *out)
{
    int y = SVG_HEIGHT - 24;
    double x = PLOT_LEFT;
    fputs ("<g id=\"legend\" font-size=\"12\">\n", out);
    triangle (out, x, y, INJECT_COLOUR);
    fprintf (out, "</polygon><text x=\"%.1f\" y=\"%d\">inject sent</text>\n", x + 10,
             y + 4);
    x += 120;
    circle (out, x, y, ACK_COLOUR);
    fprintf (out, "</circle><text x=\"%.1f\" y=\"%d\">ack</text>\n", x + 10, y + 4);
    for (int k = 0; k < EX_ACTIONS; k++) {
        x += k == 0 ? 80 : 120;
        square (out, x, y, action_colours[k]);
        fprintf (out, "</rect><text x=\"%.1f\" y=\"%d\">%s</text>\n", x + 10, y + 4,
                 ex_action_names[k]);
    }
    fputs ("</g>\n", out);
}

int
ex_svg_write (FILE *out, const ex_model_t *m, size_t p)
{
    char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
    size_t acked = 0, actions = 0;
    for (size_t i = 0; i < m->ninjects; i++)
        acked += m->ack[p * m->ninjects + i] != EX_NONE;
    for (size_t i = 0; i < m->nevents; i++)
        actions += m->events[i].party == p && m->events[i].kind == EX_ACTION;
    fprintf (out,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
             "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<title>",
             SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT);
    xml_text (out, m->name);
    fputs (": timeline of ", out);
    xml_text (out, m->parties[p].name);
    fprintf (out,
             "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
             "<text x=\"10\" y=\"26\" font-size=\"16\" font-weight=\"bold\">",
             SVG_WIDTH, SVG_HEIGHT);
    xml_text (out, m->name);
    fputs (": ", out);
    xml_text (out, m->parties[p].name);
    fprintf (out,
             "</text>\n<text x=\"10\" y=\"46\" font-size=\"12\" fill=\"#333\">%s to %s; "
             "%zu injects, %zu acknowledged, %zu actions%s</text>\n",
             im_time_format (m->start, a), im_time_format (m->end, b),
             ex_injects_to (m, p), acked, actions,
             m->now < m->end ? " (still running)" : "");
    svg_axis (out, m);
    svg_markers (out, m, p);
    svg_legend (out);
    fputs ("</svg>\n", out);
    return ferror (out) ? -1 : 0;
}
