/* SPDX-License-Identifier: MPL-2.0 */
/* im_exercise_report_md.c -- an exercise's summary.md: the exercise and its
 * times (RFC 3339 UTC), the participants, the scoreboard, the injects and
 * whom each was sent to, what each participant never acknowledged and the actions each
 * recorded. Every text from the state is escaped so that it reads as text, never as
 * Markdown, HTML or a table's cell boundary. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "im_exercise_report_int.h"
#include "im_time.h"
#include "im_util.h"

/* Writes S as Markdown text that stays in its table cell or line: the
 * characters Markdown reads (\ ` * _ [ ] | ~ ! #) backslash-escaped, & < >
 * as entities (no raw HTML), line breaks and tabs as spaces, other control
 * characters as U+FFFD. */
static void
md_text (FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&')
            fputs ("&amp;", out);
        else if (c == '<')
            fputs ("&lt;", out);
        else if (c == '>')
            fputs ("&gt;", out);
        else if (c == '\r' || c == '\n' || c == '\t')
            fputc (' ', out);
        else if (c < 0x20 || c == 0x7f)
            fputs ("\xef\xbf\xbd", out);
        else {
            if (strchr ("\\`*_[]|~!#", c))
                fputc ('\\', out);
            fputc (c, out);
        }
    }
}

static const char *
md_time (const json_t *v, char *out, size_t outsz)
{
    if (json_is_number (v))
        ex_duration (json_number_value (v), out, outsz);
    else
        snprintf (out, outsz, "-");
    return out;
}

static void
md_head (FILE *out, const ex_model_t *m)
{
    char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE], n[IM_TIME_STR_SIZE];
    size_t iocs = 0, some = 0;
    for (size_t i = 0; i < m->ninjects; i++) {
        iocs += strcmp (m->injects[i].kind, "ioc") == 0;
        some += m->injects[i].to != m->everyone;
    }
    fputs ("# Exercise ", out);
    md_text (out, m->name);
    fputs (": after-action report\n\n- **Host:** ", out);
    md_text (out, m->host_name);
    fprintf (out, " (node `%s`)\n", m->host_node);
    fprintf (out, "- **Start:** %s\n- **End:** %s\n", im_time_format (m->start, a),
             im_time_format (m->end, b));
    fprintf (out, "- **Report written:** %s%s\n", im_time_format (m->now, n),
             m->now < m->end ? " (the exercise was still running: the score is not final)"
                             : "");
    fprintf (out, "- **Injects:** %zu (%zu ioc, %zu report)", m->ninjects, iocs,
             m->ninjects - iocs);
    if (some)
        fprintf (out, "; %zu of them sent to some participants only", some);
    fputc ('\n', out);
    fprintf (out, "- **Participants:** %zu\n- **Events:** %zu\n", m->nparties,
             m->nevents);
    fputs (
        "\n## Participants\n\n| Participant | Node | Timeline |\n| --- | --- | --- |\n",
        out);
    for (size_t p = 0; p < m->nparties; p++) {
        fputs ("| ", out);
        md_text (out, m->parties[p].name);
        fprintf (out, " | `%s` | [", m->parties[p].node);
        md_text (out, m->parties[p].file);
        fprintf (out, "](%s) |\n", m->parties[p].file);
    }
}

static void
md_scoreboard (FILE *out, const ex_model_t *m, const json_t *score)
{
    const json_t *parts = json_object_get (score, "participants"), *p;
    size_t i;
    char t[IM_TIME_STR_SIZE];
    fputs ("\n## Scoreboard\n\n| Participant | Acknowledged | Median receive | Max "
           "receive | First action | Detected | Blocked | Mitigated | Escalated | "
           "Unacknowledged |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
           "---: | ---: |\n",
           out);
    json_array_foreach (parts, i, p)
    {
        const json_t *r = json_object_get (p, "receive");
        const json_t *a = json_object_get (p, "actions");
        char med[32], max[32], first[32];
        fputs ("| ", out);
        md_text (out, m->parties[i].name);
        fprintf (out, " | %lld/%lld | %s | %s | %s |",
                 (long long)json_integer_value (json_object_get (p, "acknowledged")),
                 (long long)json_integer_value (json_object_get (p, "injects")),
                 md_time (json_object_get (r, "median_s"), med, sizeof med),
                 md_time (json_object_get (r, "max_s"), max, sizeof max),
                 md_time (json_object_get (p, "first_action_s"), first, sizeof first));
        for (int k = 0; k < EX_ACTIONS; k++)
            fprintf (
                out, " %lld |",
                (long long)json_integer_value (json_object_get (a, ex_action_names[k])));
        fprintf (out, " %zu |\n",
                 json_array_size (json_object_get (p, "unacknowledged")));
    }
    fputs ("\nReceive: from an inject's sending to the participant's earliest ack. ",
           out);
    if (m->ninjects && m->injects[0].to != m->everyone)
        fputs ("First action: from the sending of the first inject sent to the "
               "participant.\n",
               out);
    else if (m->ninjects)
        fprintf (out, "First action: from the first inject's sending (%s).\n",
                 im_time_format (m->first_sent, t));
    else
        fputs ("No inject was sent.\n", out);
}

static void
md_injects (FILE *out, const ex_model_t *m)
{
    char t[IM_TIME_STR_SIZE];
    fputs ("\n## Injects\n\n", out);
    if (m->ninjects == 0) {
        fputs ("No inject was sent.\n", out);
        return;
    }
    fputs ("| Sent | Inject | Kind | TLP | To | Label |\n"
           "| --- | --- | --- | --- | --- | --- |\n",
           out);
    for (size_t i = 0; i < m->ninjects; i++) {
        const ex_inject_t *x = &m->injects[i];
        fprintf (out, "| %s | %s | %s | %s | ", im_time_format (x->sent, t), x->id,
                 x->kind, x->tlp);
        if (x->to == m->everyone)
            fputs ("every participant", out);
        for (size_t p = 0, n = 0; p < m->nparties && x->to != m->everyone; p++)
            if (ex_sent_to (m, i, p)) {
                fputs (n++ ? ", " : "", out);
                md_text (out, m->parties[p].name);
            }
        fputs (" | ", out);
        md_text (out, x->label);
        fputs (" |\n", out);
    }
}

static void
md_unacknowledged (FILE *out, const ex_model_t *m)
{
    char t[IM_TIME_STR_SIZE];
    fputs ("\n## Unacknowledged injects\n", out);
    for (size_t p = 0; p < m->nparties; p++) {
        size_t missing = 0;
        fputs ("\n### ", out);
        md_text (out, m->parties[p].name);
        fputs ("\n\n", out);
        for (size_t i = 0; i < m->ninjects; i++) {
            const ex_inject_t *x = &m->injects[i];
            if (!ex_sent_to (m, i, p) || m->ack[p * m->ninjects + i] != EX_NONE)
                continue;
            if (missing++ == 0)
                fputs ("| Sent | Inject | Label |\n| --- | --- | --- |\n", out);
            fprintf (out, "| %s | %s | ", im_time_format (x->sent, t), x->id);
            md_text (out, x->label);
            fputs (" |\n", out);
        }
        if (missing == 0)
            fputs (ex_injects_to (m, p) ? "Every inject was acknowledged.\n"
                                        : "No inject was sent to this participant.\n",
                   out);
    }
}

static void
md_actions (FILE *out, const ex_model_t *m)
{
    char t[IM_TIME_STR_SIZE], after[32];
    fputs ("\n## Actions\n", out);
    for (size_t p = 0; p < m->nparties; p++) {
        size_t n = 0;
        fputs ("\n### ", out);
        md_text (out, m->parties[p].name);
        fputs ("\n\n", out);
        for (size_t i = 0; i < m->nevents; i++) {
            const ex_event_t *e = &m->events[i];
            if (e->party != p || e->kind != EX_ACTION)
                continue;
            const ex_inject_t *x = &m->injects[e->inject];
            if (n++ == 0)
                fputs ("| Time | Action | Inject | After sending | Label | Note |\n"
                       "| --- | --- | --- | ---: | --- | --- |\n",
                       out);
            ex_duration ((double)(e->at - x->sent), after, sizeof after);
            fprintf (out, "| %s | %s | %s | %s | ", im_time_format (e->at, t),
                     ex_action_names[e->action], x->id, after);
            md_text (out, x->label);
            fputs (" | ", out);
            md_text (out, e->note ? e->note : "");
            fputs (" |\n", out);
        }
        if (n == 0)
            fputs ("No action recorded.\n", out);
    }
}

int
ex_summary_write (FILE *out, const ex_model_t *m, const json_t *score)
{
    md_head (out, m);
    md_scoreboard (out, m, score);
    md_injects (out, m);
    md_unacknowledged (out, m);
    md_actions (out, m);
    return ferror (out) ? -1 : 0;
}
