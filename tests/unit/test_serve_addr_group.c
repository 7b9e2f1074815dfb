/* The address groups that prep serve's --max-conns-per-ip counts (issue 13): IPv4 per
 * address, IPv4-mapped IPv6 as its IPv4 address, other IPv6 per /64 (one end site holds
 * a whole /64: counted per address it had unlimited connections). prep_addr_group (core) and the
 * process's table (net_ip_acquire / net_ip_release) on a bare net_server. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/http/net_internal.h"

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
    }
    return ss;
}

static int same_group(const char *x, const char *y)
{
    struct sockaddr_storage a = addr(x), b = addr(y);
    uint8_t ka[17], kb[17];
    prep_addr_group(&a, ka);
    prep_addr_group(&b, kb);
    return !memcmp(ka, kb, 17);
}

static void test_group_keys(void **state)
{
    (void)state;
    /* IPv4: each address its own group, even neighbours. */
    assert_true(same_group("192.0.2.1", "192.0.2.1"));
    assert_false(same_group("192.0.2.1", "192.0.2.2"));
    assert_false(same_group("127.0.0.2", "127.0.0.3"));
    /* IPv4-mapped IPv6 (a dual-stack listener's IPv4 client) is that IPv4 address. */
    assert_true(same_group("::ffff:192.0.2.1", "192.0.2.1"));
    assert_false(same_group("::ffff:192.0.2.1", "192.0.2.2"));
    /* IPv6: the /64 is the group, whatever the interface identifier. */
    assert_true(same_group("2001:db8:1:2::1", "2001:db8:1:2::2"));
    assert_true(same_group("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assert_true(same_group("2001:db8:1:2:8000::", "2001:db8:1:2:1234:5678:9abc:def0"));
    assert_false(same_group("2001:db8:1:2::1", "2001:db8:1:3::1"));
    assert_false(same_group("2001:db8:1:2::1", "2001:db9:1:2::1"));
    assert_false(same_group("2001:db8:1:2::", "2001:db8:1:1:ffff:ffff:ffff:ffff")); /* the 64th bit */
    assert_true(same_group("::1", "::2"));   /* both in ::/64 */
    /* IPv6 never collides with IPv4, not even an address whose first bytes match. */
    assert_false(same_group("c000:0201::", "192.0.2.1"));
    assert_false(same_group("::c000:201", "192.0.2.1")); /* IPv4-compatible (deprecated): IPv6 */
    struct sockaddr_storage a = addr("192.0.2.1"), b = addr("2001:db8:1:2::abcd");
    uint8_t k[17];
    prep_addr_group(&a, k);
    assert_int_equal(k[0], 4);
    for (int i = 5; i < 17; i++) assert_int_equal(k[i], 0);
    prep_addr_group(&b, k);
    assert_int_equal(k[0], 6);
    for (int i = 9; i < 17; i++) assert_int_equal(k[i], 0);
}

static net_server *bare_server(int per_addr)
{
    net_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->cfg.max_conns_per_ip = per_addr;
    s->ipt_size = 61;
    s->ipt = calloc(s->ipt_size, sizeof *s->ipt);
    assert_non_null(s->ipt);
    pthread_mutex_init(&s->ipmu, NULL);
    return s;
}

static void bare_free(net_server *s)
{
    for (size_t i = 0; i < s->ipt_size; i++) assert_null(s->ipt[i]); /* every count released */
    free(s->ipt);
    pthread_mutex_destroy(&s->ipmu);
    free(s);
}

static int acquire(net_server *s, const char *text)
{
    struct sockaddr_storage a = addr(text);
    return net_ip_acquire(s, &a);
}

static void release(net_server *s, const char *text)
{
    struct sockaddr_storage a = addr(text);
    net_ip_release(s, &a);
}

/* One /64 is one client: with a limit of 3, a fourth address of the same /64 is refused
 * (it had 3 more per address before), another /64 is not; IPv4 counts per address and
 * its mapped form counts with it. */
static void test_limit_per_group(void **state)
{
    (void)state;
    net_server *s = bare_server(3);
    assert_int_equal(acquire(s, "2001:db8:1:2::1"), 0);
    assert_int_equal(acquire(s, "2001:db8:1:2::2"), 0);
    assert_int_equal(acquire(s, "2001:db8:1:2:aaaa::3"), 0);
    assert_int_equal(acquire(s, "2001:db8:1:2::4"), -1);
    assert_int_equal(acquire(s, "2001:db8:1:2::1"), -1);
    assert_int_equal(acquire(s, "2001:db8:1:3::1"), 0); /* the next /64: another client */
    release(s, "2001:db8:1:2:aaaa::3");
    assert_int_equal(acquire(s, "2001:db8:1:2:ffff::9"), 0); /* room again in the /64 */
    assert_int_equal(acquire(s, "2001:db8:1:2::5"), -1);

    assert_int_equal(acquire(s, "192.0.2.1"), 0);
    assert_int_equal(acquire(s, "::ffff:192.0.2.1"), 0);
    assert_int_equal(acquire(s, "192.0.2.1"), 0);
    assert_int_equal(acquire(s, "::ffff:192.0.2.1"), -1);
    assert_int_equal(acquire(s, "192.0.2.2"), 0); /* the neighbour address: its own count */

    release(s, "2001:db8:1:2::1");
    release(s, "2001:db8:1:2::2");
    release(s, "2001:db8:1:2:ffff::9");
    release(s, "2001:db8:1:3::1");
    release(s, "192.0.2.1");
    release(s, "::ffff:192.0.2.1");
    release(s, "192.0.2.1");
    release(s, "192.0.2.2");
    bare_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_keys),
        cmocka_unit_test(test_limit_per_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
