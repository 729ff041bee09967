/*
 * test_csv.c - CSV in (line numbers, quoting, the last row without a
 * newline), numbers out (round trip, NaN, -0) and whole-or-nothing output
 * files.
 */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "resim/csvout.h"
#include "resim/csvread.h"
#include "resim/sidecar.h"
#include "resim/utf8.h"

static char tmp[256];

static void path_of(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/%s", tmp, rel);
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    path_of(path, sizeof path, rel);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        fail_msg("cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
}

static int exists(const char *rel)
{
    char path[512];
    struct stat st;
    path_of(path, sizeof path, rel);
    return stat(path, &st) == 0;
}

/* Number of entries in tmp (besides . and ..). */
static int count_files(void)
{
    DIR *d = opendir(tmp);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void clear_dir(void)
{
    DIR *d = opendir(tmp);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[768];
        snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/resim_test_csv.XXXXXX");
    return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    clear_dir();
    rmdir(tmp);
    return 0;
}

static int empty_dir(void **state)
{
    (void)state;
    clear_dir();
    return 0;
}

/* ------------------------------------------------------------ reading */

#define MAXROWS 16
typedef struct rows {
    size_t n;
    long line[MAXROWS];
    size_t nf[MAXROWS];
    char field[MAXROWS][4][64];
    size_t stop_after; /* 0: never */
} rows;

static int collect(void *ctx, char **fields, size_t n, long line, resim_error *err)
{
    rows *r = ctx;
    if (r->n == MAXROWS)
        return resim_error_set(err, RESIM_EINVAL, "collect", line, "too many rows");
    r->line[r->n] = line;
    r->nf[r->n] = n;
    for (size_t j = 0; j < n && j < 4; j++)
        snprintf(r->field[r->n][j], sizeof r->field[r->n][j], "%s", fields[j]);
    r->n++;
    if (r->stop_after != 0 && r->n == r->stop_after)
        return resim_error_set(err, RESIM_EINVAL, "collect", line, "stopped");
    return RESIM_OK;
}

static int stream(const char *rel, rows *r)
{
    char path[512];
    resim_error err = {0};
    path_of(path, sizeof path, rel);
    return resim_csv_stream(path, collect, r, &err);
}

static void test_stream_lines_and_quotes(void **state)
{
    (void)state;
    write_file("a.csv", "id,text,value\n"
                        "r1,plain,2.385\n"
                        "r2,\"with, comma\",-4.5\n"
                        "r3,\"two\nlines, and \"\"quotes\"\"\",7\n"
                        "r4,,0.125\n");
    rows r = {0};
    assert_int_equal(stream("a.csv", &r), RESIM_OK);
    assert_int_equal(r.n, 5);
    const long lines[] = {1, 2, 3, 4, 6};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r.line[i], lines[i]);
        assert_int_equal(r.nf[i], 3);
    }
    assert_string_equal(r.field[0][1], "text");
    assert_string_equal(r.field[1][2], "2.385");
    assert_string_equal(r.field[2][1], "with, comma");
    assert_string_equal(r.field[3][1], "two\nlines, and \"quotes\"");
    assert_string_equal(r.field[3][2], "7");
    assert_string_equal(r.field[4][1], "");
}

static void test_stream_no_final_newline(void **state)
{
    (void)state;
    write_file("b.csv", "x,y\n1.5,2.5\n3.25,4.75");
    rows r = {0};
    assert_int_equal(stream("b.csv", &r), RESIM_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.line[2], 3);
    assert_string_equal(r.field[2][0], "3.25");
    assert_string_equal(r.field[2][1], "4.75");
    /* A quoted last field without a newline, too. */
    write_file("c.csv", "x,y\n1.5,\"a\nb\"");
    rows q = {0};
    assert_int_equal(stream("c.csv", &q), RESIM_OK);
    assert_int_equal(q.n, 2);
    assert_int_equal(q.line[1], 2);
    assert_string_equal(q.field[1][1], "a\nb");
}

static void test_stream_crlf(void **state)
{
    (void)state;
    write_file("d.csv", "x,y\r\n1.5,2.5\r\n3.25,4.75\r\n");
    rows r = {0};
    assert_int_equal(stream("d.csv", &r), RESIM_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.line[2], 3);
    assert_string_equal(r.field[2][1], "4.75");
}

static void test_stream_errors(void **state)
{
    (void)state;
    char path[512];
    resim_error err = {0};
    rows r = {0};
    /* Missing file. */
    path_of(path, sizeof path, "absent.csv");
    assert_int_equal(resim_csv_stream(path, collect, &r, &err), RESIM_EIO);
    assert_non_null(strstr(err.msg, path));
    /* Unterminated quote at the end of the file. */
    write_file("e.csv", "x,y\n1,2\n3,\"open\n");
    path_of(path, sizeof path, "e.csv");
    memset(&r, 0, sizeof r);
    assert_int_equal(resim_csv_stream(path, collect, &r, &err), RESIM_EPARSE);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(r.n, 2);
    /* The callback's status stops the stream. */
    write_file("f.csv", "x\n1\n2\n3\n");
    path_of(path, sizeof path, "f.csv");
    memset(&r, 0, sizeof r);
    r.stop_after = 2;
    assert_int_equal(resim_csv_stream(path, collect, &r, &err), RESIM_EINVAL);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(err.msg, "stopped"));
}

static resim_table T_; /* freed by the teardown, also after a failure */

static int free_table(void **state)
{
    (void)state;
    resim_table_free(&T_);
    return 0;
}

/* Rows are numbered by the line they start on, also when their first
 * field is quoted and spans lines. */
static void test_table_read(void **state)
{
    (void)state;
    write_file("t.csv", "name,a,b\n"
                        "\"p, q\",2.385,-1e-3\n"
                        "\"multi\nline\",0.5, 7 \n"
                        "last,1.25e2,3");
    char path[512];
    path_of(path, sizeof path, "t.csv");
    resim_table *tp = &T_, t;
    resim_error err = {0};
    assert_int_equal(resim_table_read(tp, path, &err), RESIM_OK);
    t = *tp;
    assert_int_equal(t.ncol, 3);
    assert_int_equal(t.nrow, 3);
    assert_string_equal(t.header[2], "b");
    assert_string_equal(resim_table_at(&t, 0, 0), "p, q");
    assert_string_equal(resim_table_at(&t, 1, 0), "multi\nline");
    assert_string_equal(resim_table_at(&t, 2, 0), "last");
    assert_int_equal(t.line[0], 2);
    assert_int_equal(t.line[1], 3);
    assert_int_equal(t.line[2], 5);
    assert_int_equal(resim_table_col(&t, "a"), 1);
    assert_int_equal(resim_table_col(&t, "c"), -1);
    int col = 7;
    assert_int_equal(resim_table_need(&t, "c", &col, &err), RESIM_EPARSE);
    assert_true(strncmp(err.msg, path, strlen(path)) == 0);
    assert_non_null(strstr(err.msg, "'c'"));
    double v = 0;
    assert_int_equal(resim_table_number(&t, 0, "a", 0, 10, &v, &err), RESIM_OK);
    assert_true(v == 2.385);
    assert_int_equal(resim_table_number(&t, 1, "b", 0, 10, &v, &err), RESIM_OK);
    assert_true(v == 7);
    assert_int_equal(resim_table_number(&t, 2, "a", 0, 10, &v, &err), RESIM_EINVAL);
    char where[600];
    snprintf(where, sizeof where, "%s:5: a", path);
    assert_true(strncmp(err.msg, where, strlen(where)) == 0);
    assert_int_equal(resim_table_number(&t, 0, "name", 0, 10, &v, &err), RESIM_EPARSE);
    snprintf(where, sizeof where, "%s:2: name", path);
    assert_true(strncmp(err.msg, where, strlen(where)) == 0);
    resim_table_free(tp);
    resim_table_free(tp); /* twice is safe */
}

static void test_table_errors(void **state)
{
    (void)state;
    char path[512], where[600];
    resim_table t;
    resim_error err = {0};
    write_file("g.csv", "a,b\n1,2\n3\n");
    path_of(path, sizeof path, "g.csv");
    assert_int_equal(resim_table_read(&t, path, &err), RESIM_EPARSE);
    snprintf(where, sizeof where, "%s:3: ", path);
    assert_true(strncmp(err.msg, where, strlen(where)) == 0);
    write_file("h.csv", "");
    path_of(path, sizeof path, "h.csv");
    assert_int_equal(resim_table_read(&t, path, &err), RESIM_EPARSE);
    assert_non_null(strstr(err.msg, path));
    write_file("i.csv", "a,b,a\n1,2,3\n");
    path_of(path, sizeof path, "i.csv");
    assert_int_equal(resim_table_read(&t, path, &err), RESIM_EPARSE);
    assert_non_null(strstr(err.msg, "'a'"));
}

static void test_parse_double(void **state)
{
    (void)state;
    double v = -1;
    assert_int_equal(resim_parse_double("2.385", &v), 0);
    assert_true(v == 2.385);
    assert_int_equal(resim_parse_double("  -7.5e-3 ", &v), 0);
    assert_true(v == -7.5e-3);
    const char *bad[] = {"", "  ", "2.5x", "x2.5", "nan", "inf", "-inf", "1e999", "1,5", "0x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        v = 4.25;
        if (resim_parse_double(bad[k], &v) == 0)
            fail_msg("'%s' parsed as %g", bad[k], v);
        assert_true(v == 4.25);
    }
}

/* ------------------------------------------------------------ writing */

static void test_format_number_round_trip(void **state)
{
    (void)state;
    const double values[] = {2.385,
                             1.0 / 3,
                             2.0 / 3,
                             365.25 / 12,
                             0.1 + 0.2,
                             1.0000000000000049,
                             9.8765432109876549e-7,
                             -7.2500000000000031e17,
                             123456789.12345678,
                             4.9406564584124654e-324,
                             DBL_MIN,
                             DBL_MAX,
                             -1.2345678901234567e-300,
                             17.720500000000001};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        char buf[64];
        int n = resim_format_number(buf, sizeof buf, values[k]);
        assert_int_equal(n, (int)strlen(buf));
        double back = 0;
        if (resim_parse_double(buf, &back) != 0)
            fail_msg("'%s' does not read back", buf);
        double rel = fabs(back - values[k]) / fabs(values[k]);
        if (!(rel == 0)) /* the shortest form that reads back exactly */
            fail_msg("%.17g written as '%s' reads back %.17g (relative error %.3g)",
                     values[k], buf, back, rel);
    }
}

static void test_format_number_special(void **state)
{
    (void)state;
    char buf[64] = "junk";
    assert_int_equal(resim_format_number(buf, sizeof buf, NAN), 0);
    assert_string_equal(buf, "");
    resim_format_number(buf, sizeof buf, -0.0);
    assert_string_equal(buf, "0.0");
    resim_format_number(buf, sizeof buf, 0.0);
    assert_string_equal(buf, "0.0");
    resim_format_number(buf, sizeof buf, -2.5);
    assert_string_equal(buf, "-2.5");
    /* Whole numbers keep a decimal point so readers type the column as real. */
    resim_format_number(buf, sizeof buf, 1250.0);
    assert_string_equal(buf, "1250.0");
    resim_format_number(buf, sizeof buf, 1e20);
    assert_string_equal(buf, "1e+20");
}

/* Text and numbers written through csvout read back through csvread. */
static void test_write_read_back(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "w.csv");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    const char *texts[] = {"plain", "a, b", "say \"hi\"", "two\nlines"};
    const double nums[] = {2.385, -1.0 / 7, NAN, -0.0};
    fputs("text,num\n", fp);
    for (size_t k = 0; k < 4; k++) {
        resim_csv_text(fp, texts[k]);
        fputc(',', fp);
        resim_csv_number(fp, nums[k]);
        fputc('\n', fp);
    }
    fclose(fp);
    resim_table t;
    resim_error err = {0};
    assert_int_equal(resim_table_read(&t, path, &err), RESIM_OK);
    assert_int_equal(t.nrow, 4);
    for (size_t k = 0; k < 4; k++) {
        assert_string_equal(resim_table_at(&t, k, 0), texts[k]);
        const char *s = resim_table_at(&t, k, 1);
        if (isnan(nums[k])) {
            assert_string_equal(s, "");
            continue;
        }
        double v;
        assert_int_equal(resim_parse_double(s, &v), 0);
        assert_true(fabs(v - nums[k]) <= 1e-14 * fabs(nums[k]));
    }
    resim_table_free(&t);
    /* A plain text field is written bare. */
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    resim_csv_text(mem, "plain");
    fputc('|', mem);
    resim_csv_text(mem, "a,b");
    fclose(mem);
    assert_string_equal(buf, "plain|\"a,b\"");
    free(buf);
}

/* ------------------------------------------------------------ output files */

static void test_out_commit(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "out.csv");
    resim_out o;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    assert_non_null(o.fp);
    fputs("a,b\n1,2\n", o.fp);
    /* While writing, only the temporary file exists. */
    assert_false(exists("out.csv"));
    assert_int_equal(count_files(), 1);
    assert_int_equal(resim_out_commit(&o, &err), RESIM_OK);
    assert_true(exists("out.csv"));
    assert_int_equal(count_files(), 1);
    resim_out_abort(&o); /* after commit: keeps the file */
    assert_true(exists("out.csv"));
    FILE *fp = fopen(path, "r");
    char line[64] = "";
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "a,b\n");
    fclose(fp);

    /* A second output replaces the first whole. */
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    fputs("c\n", o.fp);
    fp = fopen(path, "r");
    assert_non_null(fgets(line, sizeof line, fp)); /* the old file is intact meanwhile */
    assert_string_equal(line, "a,b\n");
    fclose(fp);
    assert_int_equal(resim_out_commit(&o, &err), RESIM_OK);
    fp = fopen(path, "r");
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "c\n");
    assert_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_int_equal(count_files(), 1);
}

static void test_out_abort(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "never.csv");
    resim_out o;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    fputs("half a row,", o.fp);
    assert_int_equal(count_files(), 1);
    resim_out_abort(&o);
    assert_false(exists("never.csv"));
    assert_int_equal(count_files(), 0);
    resim_out_abort(&o); /* twice is safe */
    assert_int_equal(count_files(), 0);
}

static void test_out_errors(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "no/such/dir/out.csv");
    resim_out o;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_EIO);
    assert_non_null(strstr(err.msg, path));
    resim_out_abort(&o);
    assert_int_equal(count_files(), 0);
    /* stdout is written directly. */
    assert_int_equal(resim_out_open(&o, "-", &err), RESIM_OK);
    assert_ptr_equal(o.fp, stdout);
    assert_int_equal(resim_out_commit(&o, &err), RESIM_OK);
    resim_out_abort(&o);
    assert_int_equal(resim_out_open(&o, NULL, &err), RESIM_OK);
    assert_ptr_equal(o.fp, stdout);
    resim_out_abort(&o);
}


/* Reads a small file whole into buf ("" when it does not exist). */
static void slurp(const char *rel, char *buf, size_t size)
{
    char path[512];
    path_of(path, sizeof path, rel);
    buf[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return;
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

/* An output prepared for its sidecar, and the sidecar: renamed together. */
static void test_out_with_sidecar(void **state)
{
    (void)state;
    char path[512], buf[256];
    path_of(path, sizeof path, "r.csv");
    resim_out o, s;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    fputs("new\n", o.fp);
    assert_int_equal(resim_out_prepare(&o, &err), RESIM_OK);
    assert_int_equal(resim_out_prepare(&o, &err), RESIM_OK); /* twice is once */
    assert_false(exists("r.csv"));
    assert_int_equal(resim_sidecar_begin(&s, path, &err), RESIM_OK);
    fputs("{\"kind\": \"test\"}\n", s.fp);
    assert_false(exists("r.csv.json")); /* kept in memory until the commit */
    assert_int_equal(resim_out_commit(&s, &err), RESIM_OK);
    assert_int_equal(resim_out_commit(&s, &err), RESIM_OK); /* a second commit: nothing */
    assert_int_equal(resim_out_commit(&o, &err), RESIM_OK);
    resim_out_abort(&s);
    resim_out_abort(&o);
    slurp("r.csv", buf, sizeof buf);
    assert_string_equal(buf, "new\n");
    slurp("r.csv.json", buf, sizeof buf);
    assert_string_equal(buf, "{\"kind\": \"test\"}\n");
    assert_int_equal(count_files(), 2);
}

/* A sidecar that is not JSON: neither it nor its output is written. */
static void test_out_sidecar_invalid(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "r.csv");
    resim_out o, s;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    fputs("new\n", o.fp);
    assert_int_equal(resim_out_prepare(&o, &err), RESIM_OK);
    assert_int_equal(resim_sidecar_begin(&s, path, &err), RESIM_OK);
    fputs("{\"x\": nan}\n", s.fp);
    assert_int_equal(resim_out_commit(&s, &err), RESIM_EINVAL);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    resim_out_abort(&s);
    resim_out_abort(&o);
    assert_int_equal(count_files(), 0);
}

/*
 * A rename that fails after another succeeded: the first is undone and
 * the file it replaced comes back. The second rename is a partial file
 * that is not there.
 */
static void test_out_group_undo(void **state)
{
    (void)state;
    char path[512], other[512], missing[512], buf[256];
    path_of(path, sizeof path, "u.csv");
    path_of(other, sizeof other, "v.csv");
    path_of(missing, sizeof missing, "v.csv.partial");
    write_file("u.csv", "old\n");
    resim_out o, s;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    fputs("new\n", o.fp);
    assert_int_equal(resim_out_prepare(&o, &err), RESIM_OK);
    assert_int_equal(resim_partial_hold(missing, other), 0);
    assert_int_equal(resim_sidecar_begin(&s, path, &err), RESIM_OK);
    fputs("{}\n", s.fp);
    assert_int_equal(resim_out_commit(&s, &err), RESIM_EIO);
    assert_non_null(strstr(err.msg, "cannot rename into place"));
    resim_out_abort(&s);
    resim_out_abort(&o);
    slurp("u.csv", buf, sizeof buf);
    assert_string_equal(buf, "old\n");
    assert_false(exists("u.csv.json"));
    assert_false(exists("v.csv"));
    assert_int_equal(count_files(), 1); /* no temporary or backup file left */
}

/* Files are created 0666 under the umask, as every Unix tool does. */
static void test_out_mode(void **state)
{
    (void)state;
    char path[512];
    path_of(path, sizeof path, "m.csv");
    mode_t old = umask(027);
    resim_out o;
    resim_error err = {0};
    assert_int_equal(resim_out_open(&o, path, &err), RESIM_OK);
    assert_int_equal(resim_out_commit(&o, &err), RESIM_OK);
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(resim_utf8_valid("plain", 5));
    static const char good[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_true(resim_utf8_valid(good, sizeof good - 1));
    assert_false(resim_utf8_valid("caf\xe9", 4));          /* Latin-1 */
    assert_false(resim_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(resim_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(resim_utf8_valid("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
    assert_false(resim_utf8_valid("\xe2\x82", 2));         /* cut short */
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    resim_json_string(mem, "a\xff\"b");
    fclose(mem);
    assert_string_equal(buf, "\"a\xef\xbf\xbd\\\"b\"");
    free(buf);
}

#define T(f) cmocka_unit_test_setup(f, empty_dir)

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        T(test_stream_lines_and_quotes),
        T(test_stream_no_final_newline),
        T(test_stream_crlf),
        T(test_stream_errors),
        cmocka_unit_test_setup_teardown(test_table_read, empty_dir, free_table),
        T(test_table_errors),
        T(test_parse_double),
        T(test_format_number_round_trip),
        T(test_format_number_special),
        T(test_write_read_back),
        T(test_out_commit),
        T(test_out_abort),
        T(test_out_errors),
        T(test_out_with_sidecar),
        T(test_out_sidecar_invalid),
        T(test_out_group_undo),
        T(test_out_mode),
        T(test_utf8),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
