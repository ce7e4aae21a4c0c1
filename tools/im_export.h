/* SPDX-License-Identifier: MPL-2.0 */
/* im_export.h -- writes records (as im_record_to_json() makes them) as a STIX 2.1
 * bundle, a MISP event or CSV, streamed to a FILE one record at a time, so that
 * an export of millions of records never sits whole in memory. */
#ifndef IM_EXPORT_H
#define IM_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "im_record.h"

typedef struct _im_export_t im_export_t;

/* Longest ORIGIN_LABEL accepted, in bytes. */
#define IM_EXPORT_LABEL_MAX 256

/* A new exporter writing to OUT (borrowed: the caller closes it). FORMAT is
 * "stix", "misp" or "csv". NOW is the export time (seconds since the epoch),
 * used for the bundle/event metadata. ORIGIN_LABEL names what is exported for
 * the MISP event's info (NULL: "all origins"); at most IM_EXPORT_LABEL_MAX
 * bytes of UTF-8 without control characters. Nothing is written before the
 * first record or im_export_finish(). Returns NULL with errno EINVAL (bad
 * argument) or ENOMEM. */
im_export_t *im_export_new (const char *format, FILE *out, int64_t now,
                            const char *origin_label);

/* The organisation a MISP export names as its event's creator (Orgc): NAME
 * (the node's name; at most IM_EXPORT_LABEL_MAX bytes of UTF-8 without
 * control characters) and a uuid derived from the node id NODE, the same
 * every time and the same as the MISP-format feed's ("org:NODE-HEX", version
 * 5); the event's uuid is derived from it too ("export:NODE-HEX"), so that
 * every MISP export of a node is one event. Without a call: "intelmesh", uuids
 * derived from that name; NODE NULL too. Before the first record. Returns 0, or -1 with
 * errno EINVAL or ENOMEM. */
int im_export_set_org (im_export_t *self, const uint8_t node[32], const char *name);

/* NULL-safe; sets *SELF_P to NULL; preserves errno. Does not write the
 * epilogue (call im_export_finish() for a complete document) nor close OUT. */
void im_export_destroy (im_export_t **self_p);

/* Writes one record (a JSON object as im_record_to_json() makes it; fields it
 * does not use, like "recipients" or "version", are ignored). Every field used
 * is checked first: returns -1 with errno EINVAL and a reason naming the field
 * in ERR for a record that is malformed or that the format cannot express
 * (CSV: a tag holding ';', the tag separator; MISP: a tag starting with "tlp:"
 * or "intelmesh:", which would read back as a label or setting), and then
 * nothing of it is written. Returns -1 with errno EIO on a write error (the
 * exporter then refuses everything with EIO), ENOMEM, EINVAL after
 * im_export_finish(), and 0 when the record was written. */
int im_export_record (im_export_t *self, const json_t *record, char *err, size_t errsz);

/* Writes a report REPORT (its JSON form, as REPORT show gives it) after the
 * records: STIX: a report object whose object_refs name MEMBERS (the member
 * records that were written by this exporter; the caller keeps out the
 * others), its context as attack-pattern (mitre-attack external_id, or by
 * name from a tag "attack-pattern:NAME"), malware, threat-actor and
 * course-of-action objects marked x_intelmesh_context where an importer
 * could take them for indicators, and relationship objects (the first actor
 * uses each malware and attack pattern, each course of action mitigates each
 * attack pattern, each member indicates the first actor, else malware, else
 * attack pattern); ids are version 5 UUIDs, the same in every export.
 * MISP (after im_export_misp_list(), else nothing): an event
 * (im_export_misp_event()) holding MEMBERS as attributes, as the records are
 * written. CSV: nothing (0). Returns 0, or -1 with errno EINVAL (a malformed
 * report), ENOMEM or EIO. */
int im_export_report (im_export_t *self, const json_t *report, const json_t *members,
                      char *err, size_t errsz);

/* The STIX objects of a report (im_export_report()), the report last; a new
 * array (empty when the report names nothing), or NULL with errno EINVAL or
 * ENOMEM. */
json_t *im_export_stix_report (const json_t *report, const json_t *members);

/* A report as a MISP event (im_export_report()): uuid the report's id, info
 * its title, TLP_TAG (NULL: none) and its tags as tags, its ATT&CK
 * techniques, actors and malware as galaxies (mitre-attack-pattern,
 * threat-actor, mitre-malware), ATTRIBUTES (taken, also on failure) and a
 * link attribute for each reference as attributes; without Orgc. NULL with
 * errno EINVAL or ENOMEM. */
json_t *im_export_misp_event (const json_t *report, json_t *attributes,
                              const char *tlp_tag);

/* A MISP export that will hold reports: written as a list of events
 * ({"response": [...]}), the indicators' event first, then one event for
 * each report. Before the first record; nothing for other formats. Returns
 * 0, or -1 with errno EINVAL. */
int im_export_misp_list (im_export_t *self);

/* Sightings (SPEC.md, "Sightings") to write with the indicators they are of:
 * SIGHTINGS (borrowed until the exporter is destroyed) maps
 * "ORIGINHEX/INDICATOR-UUID" to an array of sighting records in their JSON
 * form, each with an optional "by_name". STIX writes a sighting object for
 * each after its indicator (and an identity for each node that saw); MISP's
 * event format has none (see im_export_misp_sightings). Before the first
 * record. Returns
 * 0 or -1 (EINVAL). */
int im_export_set_sightings (im_export_t *self, const json_t *sightings);

/* The STIX objects of SIGHTINGS (as above) of the indicator whose STIX id is
 * OF: a sighting each, and an identity for each node that saw not yet in
 * SEEN (a set of identity ids, added to). The MISP form: MISP sightings as
 * its sightings API takes them, each naming its attribute by the uuid MISP
 * exports give it ("attribute_uuid"; MISP's sighting has no count: source
 * says it). Both
 * return a new array, or NULL with errno EINVAL (a malformed sighting) or
 * ENOMEM (im_export_sight.c). */
json_t *im_export_stix_sightings (const json_t *sightings, const char *of, json_t *seen);
json_t *im_export_misp_sightings (const json_t *sightings);

/* MISP refuses one attribute uuid in two events: ATTR (an attribute about
 * to be written in the event of report REPORT, its id) keeps its uuid the
 * first time, and takes the version 5 uuid of "member REPORT UUID" when
 * that uuid was written before. *SEEN (made when NULL) is the set of uuids
 * written. Returns 0 or -1 (ENOMEM). */
int im_export_misp_unique (json_t **seen, json_t *attr, const char *report);

/* The STIX objects of the sightings in MAP (as im_export_set_sightings takes
 * it) of the record R, whose STIX id is OF: *SEEN (made when NULL) as above,
 * the sightings' labels added to *MARKINGS (a bit per im_tlp_t). */
json_t *im_export_stix_sightings_of (const json_t *map, const im_record_t *r,
                                     const char *of, json_t **seen, unsigned *markings);

/* Writes the epilogue (an export without records is a valid empty bundle,
 * event, or a CSV header alone) and flushes OUT. Returns 0, or -1 with errno
 * EIO (write error), or EINVAL when called twice. */
int im_export_finish (im_export_t *self, char *err, size_t errsz);

/* Records written so far; 0 for NULL. */
size_t im_export_count (im_export_t *self);

/* Records written with a note: written otherwise than stored, or as they are
 * although the format would want otherwise. STIX and MISP: valid_until not
 * later than valid_from -- valid_from being the record's, or (STIX) its created
 * time when unset -- gets valid_from = valid_until - 1 s (im_stix_valid_from());
 * STIX: modified before created is written as it is. The last note, one line,
 * naming the indicator by its exported id, goes into NOTE when NOTE is given;
 * "" when there is none. 0 for NULL. */
size_t im_export_notes (im_export_t *self, char *note, size_t notesz);

#endif
