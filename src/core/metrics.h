/*
 * metrics: counters for Prometheus, kept in fixed arrays of atomics so
 * that recording costs a few relaxed increments and no lock.
 *
 * Labels are bounded by construction: a route is one of the templates
 * registered at start-up (or "unmatched"), a method one of a fixed list
 * (or "other"), a status one of the codes the service answers (or
 * "other").  No raw path, id or user name ever becomes a label.
 */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

#include "core/buf.h"

#define METRICS_MAX_ROUTES 16
#define METRICS_UNMATCHED  (-1)

/* Registers the route templates; route ids index this array. */
void metrics_set_routes(const char *const *templates, int count);

/* The template of a route id, or "unmatched". */
const char *metrics_route_name(int route);

void metrics_set_build_info(const char *version, const char *engine);

void metrics_request(int route, const char *method, unsigned status,
                     double seconds);
void metrics_in_flight(int delta);
void metrics_db_error(void);
void metrics_db_reconnect(void);

/* Appends every metric in the Prometheus text format (version 0.0.4). */
void metrics_render(struct buf *out);

#endif
