/* test_util.h — small helpers shared by the cmocka tests. */
#ifndef DSIM_TEST_UTIL_H
#define DSIM_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

/* Asserts that err is set with the given GError domain and code. */
#define assert_error(err, dom, cod)            \
  do {                                          \
    assert_non_null(err);                       \
    assert_int_equal((err)->domain, (dom));     \
    assert_int_equal((err)->code, (cod));       \
  } while (0)

/* Asserts that haystack contains needle, printing both if not. */
static inline void assert_contains_at(const char *haystack, const char *needle, const char *file,
                                      int line) {
  if (!haystack || !strstr(haystack, needle)) {
    print_error("'%s' does not contain '%s'\n", haystack ? haystack : "(null)", needle);
    _fail(file, line);
  }
}
#define assert_contains(haystack, needle) assert_contains_at((haystack), (needle), __FILE__, __LINE__)

#endif
