/*
 * api/health: what operators and orchestrators ask of the service.
 *
 *   /livez, /healthz  200 while the process serves; never touches the
 *                     database
 *   /readyz           200 when the database answers; 503 while it does
 *                     not, and while shutting down
 *   /metrics          Prometheus text format (see core/metrics.h)
 */
#ifndef API_HEALTH_H
#define API_HEALTH_H

#include "http/server.h"

void health_live(struct http_request *req);
void health_ready(struct http_request *req);
void health_metrics(struct http_request *req);

#endif
