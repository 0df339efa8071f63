/*
 * Unit tests for http/probe: a fake server on a loopback port answers one
 * connection with a canned reply (or stays silent), and the probe must
 * report 200 as healthy, other statuses with their code, silence as a
 * timeout within its deadline, and refused or non-HTTP peers as such.
 */
#include "testutil.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/probe.h"

/* One fake server: what it answers, and the request it received. */
struct fake {
    int listener;
    int port;
    const char *reply; /* NULL: read the request, then say nothing */
    int silence_ms;    /* how long to stay silent before closing */
    char request[1024];
    pthread_t thread;
};

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->listener, NULL, NULL);
    size_t used = 0;

    if (fd < 0)
        return NULL;
    while (used + 1 < sizeof(f->request)) {
        ssize_t n =
            recv(fd, f->request + used, sizeof(f->request) - 1 - used, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        f->request[used] = '\0';
        if (strstr(f->request, "\r\n\r\n") != NULL)
            break;
    }
    if (f->reply != NULL) {
        ssize_t sent = send(fd, f->reply, strlen(f->reply), MSG_NOSIGNAL);
        (void)sent;
    } else {
        usleep((useconds_t)f->silence_ms * 1000);
    }
    close(fd);
    return NULL;
}

/* Starts a fake server on 127.0.0.1 at a free port. */
static void fake_start(struct fake *f, const char *reply, int silence_ms)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);

    memset(f, 0, sizeof(*f));
    f->reply = reply;
    f->silence_ms = silence_ms;
    f->listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->listener >= 0);
    assert_int_equal(bind(f->listener, (struct sockaddr *)&addr, len), 0);
    assert_int_equal(listen(f->listener, 4), 0);
    assert_int_equal(getsockname(f->listener, (struct sockaddr *)&addr, &len),
                     0);
    f->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_finish(struct fake *f)
{
    assert_int_equal(pthread_join(f->thread, NULL), 0);
    close(f->listener);
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 +
           (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void test_200_is_healthy_and_request_is_a_plain_get(void **state)
{
    (void)state;
    struct fake f;
    int status;

    fake_start(&f,
               "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n"
               "{\"status\":\"ok\"}",
               0);
    assert_int_equal(probe_get("127.0.0.1", f.port, "/livez", 2000, &status),
                     PROBE_OK);
    assert_int_equal(status, 200);
    fake_finish(&f);
    assert_true(strncmp(f.request, "GET /livez HTTP/1.1\r\n", 21) == 0);
    assert_non_null(strstr(f.request, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(f.request, "\r\nHost: "));
}

static void test_other_status_is_reported_with_its_code(void **state)
{
    (void)state;
    struct fake f;
    int status;

    fake_start(&f, "HTTP/1.1 503 Service Unavailable\r\n\r\n", 0);
    assert_int_equal(probe_get("127.0.0.1", f.port, "/livez", 2000, &status),
                     PROBE_STATUS);
    assert_int_equal(status, 503);
    fake_finish(&f);
}

static void test_http_1_0_without_reason_phrase_is_read(void **state)
{
    (void)state;
    struct fake f;
    int status;

    fake_start(&f, "HTTP/1.0 200\r\n\r\n", 0);
    assert_int_equal(probe_get("127.0.0.1", f.port, "/livez", 2000, &status),
                     PROBE_OK);
    fake_finish(&f);
}

static void test_non_http_answer_is_bad_response(void **state)
{
    (void)state;
    struct fake f;
    int status;

    fake_start(&f, "SSH-2.0-OpenSSH\r\n", 0);
    assert_int_equal(probe_get("127.0.0.1", f.port, "/livez", 2000, &status),
                     PROBE_BAD_RESPONSE);
    assert_int_equal(status, 0);
    fake_finish(&f);

    fake_start(&f, "HTTP/1.1 20", 0); /* closed mid-line */
    assert_int_equal(probe_get("127.0.0.1", f.port, "/livez", 2000, &status),
                     PROBE_BAD_RESPONSE);
    fake_finish(&f);
}

static void test_silent_server_times_out_within_deadline(void **state)
{
    (void)state;
    struct fake f;
    struct timespec started;
    int status;

    fake_start(&f, NULL, 1500);
    clock_gettime(CLOCK_MONOTONIC, &started);
    assert_int_equal(probe_get("127.0.0.1", f.port, "/livez", 300, &status),
                     PROBE_TIMEOUT);
    long took = elapsed_ms(&started);
    assert_true(took >= 250 && took < 1200);
    assert_int_equal(status, 0);
    fake_finish(&f);
}

static void test_closed_port_cannot_connect(void **state)
{
    (void)state;
    struct fake f;
    int status;

    /* A port that was free a moment ago and has no listener now. */
    fake_start(&f, "HTTP/1.1 200 OK\r\n\r\n", 0);
    int port = f.port;
    assert_int_equal(probe_get("127.0.0.1", port, "/", 2000, &status),
                     PROBE_OK);
    fake_finish(&f);
    assert_int_equal(probe_get("127.0.0.1", port, "/livez", 2000, &status),
                     PROBE_CONNECT);
    assert_int_equal(status, 0);
}

static void test_host_must_be_an_ip_literal(void **state)
{
    (void)state;
    int status;

    assert_int_equal(probe_get("localhost", 8000, "/livez", 100, &status),
                     PROBE_BAD_ADDRESS);
    assert_string_equal(probe_result_text(PROBE_OK), "healthy");
    assert_string_equal(probe_result_text(PROBE_TIMEOUT), "no answer in time");
}

static void test_wildcard_bind_probes_loopback(void **state)
{
    (void)state;

    assert_string_equal(probe_local_address("0.0.0.0"), "127.0.0.1");
    assert_string_equal(probe_local_address("::"), "::1");
    assert_string_equal(probe_local_address("127.0.0.2"), "127.0.0.2");
    assert_string_equal(probe_local_address("::1"), "::1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_200_is_healthy_and_request_is_a_plain_get),
        cmocka_unit_test(test_other_status_is_reported_with_its_code),
        cmocka_unit_test(test_http_1_0_without_reason_phrase_is_read),
        cmocka_unit_test(test_non_http_answer_is_bad_response),
        cmocka_unit_test(test_silent_server_times_out_within_deadline),
        cmocka_unit_test(test_closed_port_cannot_connect),
        cmocka_unit_test(test_host_must_be_an_ip_literal),
        cmocka_unit_test(test_wildcard_bind_probes_loopback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
