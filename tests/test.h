/*
 * A very small test kit (after seatd's test.h): each test is a program; a
 * failed assertion prints file:line and aborts.  Exit 77 means skipped.
 */
#ifndef JL_TEST_H
#define JL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SKIP 77

#define test_assert(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#define test_assert_int(a, b) do {					\
	long long test_a_ = (long long)(a), test_b_ = (long long)(b);	\
	if (test_a_ != test_b_) {					\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",\
		    __FILE__, __LINE__, #a, test_a_, #b, test_b_);	\
		abort();						\
	}								\
} while (0)

#define test_assert_str(a, b) do {					\
	const char *test_a_ = (a), *test_b_ = (b);			\
	if (test_a_ == NULL || test_b_ == NULL ||			\
	    strcmp(test_a_, test_b_) != 0) {				\
		fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n",\
		    __FILE__, __LINE__, #a,				\
		    test_a_ ? test_a_ : "(null)",			\
		    test_b_ ? test_b_ : "(null)");			\
		abort();						\
	}								\
} while (0)

#define test_run(fn) do {						\
	fprintf(stderr, "-- %s\n", #fn);				\
	fn();								\
} while (0)

#endif
