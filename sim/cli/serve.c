/* serve.c - `resim serve`: the explorer's page and JSON API over HTTP on a local address. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"
#include "serve_assets.h"

/* Connections served at once, and threads serving them. */
#define SERVE_CONNECTIONS 64
#define SERVE_THREADS 4
/* Memory MHD may use per connection for headers and buffers. */
#define SERVE_CONNECTION_MEMORY (128 * 1024)

static const char serve_help[] =
    "usage: resim serve [SCENARIO] [--port N] [--bind ADDRESS] [--runs N] [--wait MS]\n"
    "                   [--timeout S]\n"
    "\n"
    "Serves the explorer: a page with sliders for the scenario's levers and charts\n"
    "that redraw as they move, and its JSON API (/api/levers, /api/run,\n"
    "/api/run.csv, /api/scenario.ini). The scenario is read once at start; the\n"
    "page changes levers only, and nothing is written to disk.\n"
    "\n"
    "  SCENARIO          default scenarios/japan-2026.ini\n"
    "  --port N          TCP port (default 8080; 0 picks a free one)\n"
    "  --bind ADDRESS    address to listen on (default 127.0.0.1, this machine only)\n"
    "  --runs N          runs computed at once (default 2)\n"
    "  --wait MS         how long a request waits for a free run before it is\n"
    "                    answered 503 (default 5000)\n"
    "  --timeout S       seconds a request may take to arrive, and a connection\n"
    "                    may stay idle (default 10)\n"
    "\n"
    "Stops on Ctrl-C (SIGINT) or SIGTERM.\n";

typedef struct server {
    serve_api *api;
    unsigned timeout; /* seconds a request may take to arrive, and a connection may idle */
    unsigned short port;
    int loopback; /* bound to a loopback address: Host must name it */
} server;

/* One request's body as it arrives. */
typedef struct upload {
    struct timespec start;
    char *body;
    size_t len, cap;
    int too_big;
} upload;

static enum MHD_Result send_reply(struct MHD_Connection *c, serve_reply *r, int api)
{
    struct MHD_Response *resp;
    if (r->body != NULL)
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    else {
        static const char oom[] = "{\"error\":\"resim: out of memory\"}";
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL) {
        serve_reply_free(r);
        return MHD_NO;
    }
    r->body = NULL; /* MHD frees it */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, api ? "no-store" : "no-cache");
    if (r->filename != NULL) {
        char cd[200];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", r->filename);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
    }
    if (!api)
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; connect-src 'self'");
    enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A browser on this machine names the server by a loopback host; any other
 * Host (a DNS name pointing at 127.0.0.1) is refused. */
static int host_ok(const server *s, struct MHD_Connection *c)
{
    if (!s->loopback)
        return 1;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host == NULL)
        return 0;
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(host, names[k], n) != 0)
            continue;
        if (host[n] == '\0')
            return s->port == 80;
        if (host[n] == ':' && strtoul(host + n + 1, NULL, 10) == s->port)
            return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    server *s = cls;
    serve_reply r = {0};
    upload *u = *con_cls;
    if (u == NULL) {
        if ((u = calloc(1, sizeof *u)) == NULL)
            return MHD_NO;
        *con_cls = u;
        clock_gettime(CLOCK_MONOTONIC, &u->start);
        if (!host_ok(s, c)) {
            serve_reply_error(&r, 403, "resim: this server answers requests for 127.0.0.1 or localhost only");
            return send_reply(c, &r, 1);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > SERVE_MAX_BODY) {
            serve_reply_error(&r, 413, "resim: request body over %d bytes", SERVE_MAX_BODY);
            return send_reply(c, &r, 1);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        /* A body that trickles in is cut off (the connection is closed; MHD
         * sends no answer in the middle of an upload): the whole request must
         * arrive within the timeout, not only each piece of it. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - u->start.tv_sec > (time_t)s->timeout)
            return MHD_NO;
        if (u->too_big || u->len + n > SERVE_MAX_BODY) {
            u->too_big = 1;
            return MHD_YES;
        }
        if (u->len + n > u->cap) {
            size_t cap = u->cap ? u->cap : 1024;
            while (cap < u->len + n)
                cap *= 2;
            char *b = realloc(u->body, cap);
            if (b == NULL)
                return MHD_NO;
            u->body = b;
            u->cap = cap;
        }
        memcpy(u->body + u->len, upload_data, n);
        u->len += n;
        return MHD_YES;
    }
    if (u->too_big) {
        serve_reply_error(&r, 413, "resim: request body over %d bytes", SERVE_MAX_BODY);
        return send_reply(c, &r, 1);
    }
    if (strncmp(url, "/api/", 5) == 0) {
        serve_api_handle(s->api, method, url, u->body, u->len, &r);
        if (r.status >= 500)
            fprintf(stderr, "resim serve: %s %s: %u\n", method, url, r.status);
        return send_reply(c, &r, 1);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        serve_reply_error(&r, 405, "resim: %s takes GET", url);
        return send_reply(c, &r, 1);
    }
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
    for (const serve_asset *a = serve_assets; a->url != NULL; a++)
        if (strcmp(a->url, path) == 0) {
            struct MHD_Response *resp = MHD_create_response_from_buffer(
                a->len, (void *)(size_t)a->data, MHD_RESPMEM_PERSISTENT);
            if (resp == NULL)
                return MHD_NO;
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
            MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
            MHD_add_response_header(resp, "Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                    "img-src 'self' data:; connect-src 'self'");
            enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
            MHD_destroy_response(resp);
            return ret;
        }
    serve_reply_error(&r, 404, "resim: no such page: %.100s", url);
    return send_reply(c, &r, 1);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    upload *u = *con_cls;
    if (u != NULL) {
        free(u->body);
        free(u);
    }
    *con_cls = NULL;
}

/* The default scenario: scenarios/japan-2026.ini here, or beside the binary's folder. */
static const char *default_scenario(char *buf, size_t n)
{
    const char *rel = "scenarios/japan-2026.ini";
    if (access(rel, R_OK) == 0)
        return rel;
    char exe[RESIM_PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            int w = snprintf(buf, n, "%s/../%s", exe, rel);
            if (w > 0 && (size_t)w < n && access(buf, R_OK) == 0)
                return buf;
        }
    }
    return rel;
}

static int whole_arg(const char *name, const char *v, unsigned long lo, unsigned long hi,
                     unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || x < lo || x > hi)
        return cli_usage("%s takes a whole number from %lu to %lu, not '%s'", name, lo, hi, v);
    *out = x;
    return 0;
}

int cli_serve(int argc, char **argv)
{
    const char *scenario = NULL, *bind = "127.0.0.1";
    unsigned long port = 8080, runs = 2, timeout = 10, wait_ms = 5000;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r, code;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(serve_help, stdout);
            return 0;
        }
        if ((r = cli_opt(argc, argv, &i, "--port", &v)) != 0) {
            if (r < 0 || (code = whole_arg("--port", v, 0, 65535, &port)) != 0)
                return EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--bind", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            bind = v;
        } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
            if (r < 0 || (code = whole_arg("--runs", v, 1, 64, &runs)) != 0)
                return EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--wait", &v)) != 0) {
            if (r < 0 || (code = whole_arg("--wait", v, 0, 600000, &wait_ms)) != 0)
                return EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
            if (r < 0 || (code = whole_arg("--timeout", v, 1, 3600, &timeout)) != 0)
                return EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage("unknown option '%s'", argv[i]);
        } else if (scenario == NULL) {
            scenario = argv[i];
        } else {
            return cli_usage("more than one scenario given ('%s')", argv[i]);
        }
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    int v6 = strchr(bind, ':') != NULL;
    if (v6 ? inet_pton(AF_INET6, bind, &a6.sin6_addr) != 1 : inet_pton(AF_INET, bind, &a4.sin_addr) != 1)
        return cli_usage("--bind takes an IP address such as 127.0.0.1, not '%s'", bind);
    a4.sin_family = AF_INET;
    a4.sin_port = htons((unsigned short)port);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((unsigned short)port);

    char dflt[RESIM_PATH_MAX];
    if (scenario == NULL)
        scenario = default_scenario(dflt, sizeof dflt);
    resim_error err = {0};
    server s = {0};
    s.timeout = (unsigned)timeout;
    s.api = serve_api_alloc(scenario, runs, (long)wait_ms, &err);
    if (s.api == NULL)
        return cli_fail(&err);
    s.loopback = v6 ? strcmp(bind, "::1") == 0 : (ntohl(a4.sin_addr.s_addr) >> 24) == 127;

    /* The signals are taken by sigwait below, never by a server thread. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0),
        (uint16_t)port, NULL, NULL, on_request, &s,
        MHD_OPTION_SOCK_ADDR, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)SERVE_THREADS,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SERVE_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "resim: cannot listen on %s port %lu (in use, or not an address of this machine)\n",
                bind, port);
        serve_api_free(s.api);
        return EXIT_INPUT;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    s.port = info != NULL && info->port != 0 ? info->port : (unsigned short)port;
    printf("resim serve: %s on http://%s%s%s:%u/ (Ctrl-C stops)\n", serve_api_name(s.api),
           v6 ? "[" : "", bind, v6 ? "]" : "", (unsigned)s.port);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    serve_api_free(s.api);
    fprintf(stderr, "resim serve: stopped (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}
