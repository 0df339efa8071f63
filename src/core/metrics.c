/* metrics: lock-free counters and their Prometheus text rendering. */
#include "core/metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const methods[] = {"GET",    "HEAD",  "POST",    "PUT",
                                      "DELETE", "PATCH", "OPTIONS", "other"};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const unsigned statuses[] = {200, 201, 204, 304, 308, 400, 401, 403, 404,
                                    405, 411, 413, 414, 431, 500, 503, 0};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BUCKETS (sizeof(bounds) / sizeof(bounds[0]) + 1)

/* Route slot METRICS_MAX_ROUTES is "unmatched". */
#define N_ROUTE_SLOTS (METRICS_MAX_ROUTES + 1)

static const char *route_names[METRICS_MAX_ROUTES];
static int n_routes;
static const char *build_version = "";
static const char *build_engine = "";

static atomic_uint_fast64_t requests[N_ROUTE_SLOTS][N_METHODS][N_STATUSES];
static atomic_uint_fast64_t buckets[N_ROUTE_SLOTS][N_BUCKETS];
static atomic_uint_fast64_t duration_us[N_ROUTE_SLOTS];
static atomic_int in_flight;
static atomic_uint_fast64_t db_errors;
static atomic_uint_fast64_t db_reconnects;

void metrics_set_routes(const char *const *templates, int count)
{
    if (count > METRICS_MAX_ROUTES)
        count = METRICS_MAX_ROUTES;
    for (int i = 0; i < count; i++)
        route_names[i] = templates[i];
    n_routes = count;
}

static int route_slot(int route)
{
    return route >= 0 && route < n_routes ? route : METRICS_MAX_ROUTES;
}

const char *metrics_route_name(int route)
{
    int slot = route_slot(route);

    return slot == METRICS_MAX_ROUTES ? "unmatched" : route_names[slot];
}

void metrics_set_build_info(const char *version, const char *engine)
{
    build_version = version;
    build_engine = engine;
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < N_METHODS; i++) {
        if (strcmp(method, methods[i]) == 0)
            return i;
    }
    return N_METHODS - 1;
}

static size_t status_index(unsigned status)
{
    for (size_t i = 0; i + 1 < N_STATUSES; i++) {
        if (statuses[i] == status)
            return i;
    }
    return N_STATUSES - 1;
}

void metrics_request(int route, const char *method, unsigned status,
                     double seconds)
{
    int slot = route_slot(route);
    size_t b = 0;

    while (b + 1 < N_BUCKETS && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(
        &requests[slot][method_index(method)][status_index(status)], 1,
        memory_order_relaxed);
    atomic_fetch_add_explicit(&buckets[slot][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&duration_us[slot],
                              (uint_fast64_t)(seconds * 1e6),
                              memory_order_relaxed);
}

void metrics_in_flight(int delta)
{
    atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed);
}

void metrics_db_error(void)
{
    atomic_fetch_add_explicit(&db_errors, 1, memory_order_relaxed);
}

void metrics_db_reconnect(void)
{
    atomic_fetch_add_explicit(&db_reconnects, 1, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *v)
{
    return (uint64_t)atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(struct buf *out)
{
    buf_puts(out, "# HELP thoughts_http_requests_total HTTP requests "
                  "answered, by route template, method and status.\n"
                  "# TYPE thoughts_http_requests_total counter\n");
    for (int r = 0; r < N_ROUTE_SLOTS; r++) {
        for (size_t m = 0; m < N_METHODS; m++) {
            for (size_t s = 0; s < N_STATUSES; s++) {
                uint64_t n = load(&requests[r][m][s]);
                if (n == 0)
                    continue;
                char status[12] = "other";
                if (statuses[s] != 0)
                    snprintf(status, sizeof(status), "%u", statuses[s]);
                buf_printf(out,
                           "thoughts_http_requests_total{route=\"%s\","
                           "method=\"%s\",status=\"%s\"} %llu\n",
                           metrics_route_name(r), methods[m], status,
                           (unsigned long long)n);
            }
        }
    }
}

static void render_durations(struct buf *out)
{
    buf_puts(out, "# HELP thoughts_http_request_duration_seconds Time from "
                  "the request line to the end of the response.\n"
                  "# TYPE thoughts_http_request_duration_seconds "
                  "histogram\n");
    for (int r = 0; r < N_ROUTE_SLOTS; r++) {
        const char *name = metrics_route_name(r);
        uint64_t count = 0;
        for (size_t b = 0; b < N_BUCKETS; b++)
            count += load(&buckets[r][b]);
        if (count == 0)
            continue;

        uint64_t cumulative = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cumulative += load(&buckets[r][b]);
            char le[16] = "+Inf";
            if (b + 1 < N_BUCKETS)
                snprintf(le, sizeof(le), "%g", bounds[b]);
            buf_printf(out,
                       "thoughts_http_request_duration_seconds_bucket{"
                       "route=\"%s\",le=\"%s\"} %llu\n",
                       name, le, (unsigned long long)cumulative);
        }
        buf_printf(out,
                   "thoughts_http_request_duration_seconds_sum{route=\"%s\"}"
                   " %.6f\n"
                   "thoughts_http_request_duration_seconds_count{route="
                   "\"%s\"} %llu\n",
                   name, (double)load(&duration_us[r]) / 1e6, name,
                   (unsigned long long)cumulative);
    }
}

void metrics_render(struct buf *out)
{
    render_requests(out);
    render_durations(out);
    buf_printf(out,
               "# HELP thoughts_http_requests_in_flight Requests being "
               "handled now.\n"
               "# TYPE thoughts_http_requests_in_flight gauge\n"
               "thoughts_http_requests_in_flight %d\n"
               "# HELP thoughts_db_errors_total Database calls that "
               "failed.\n"
               "# TYPE thoughts_db_errors_total counter\n"
               "thoughts_db_errors_total %llu\n"
               "# HELP thoughts_db_reconnects_total Database connections "
               "re-established after a loss.\n"
               "# TYPE thoughts_db_reconnects_total counter\n"
               "thoughts_db_reconnects_total %llu\n"
               "# HELP thoughts_build_info The running build.\n"
               "# TYPE thoughts_build_info gauge\n"
               "thoughts_build_info{version=\"%s\",engine=\"%s\"} 1\n",
               atomic_load_explicit(&in_flight, memory_order_relaxed),
               (unsigned long long)load(&db_errors),
               (unsigned long long)load(&db_reconnects), build_version,
               build_engine);
}
