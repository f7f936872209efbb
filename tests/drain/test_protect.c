/* The scale-in protection planner: tables of groups and their load. */
#include <string.h>

#include "drain/protect.h"
#include "tests/test.h"

#define B(id, p, prot)	{ id, p, prot, true }

/* Apply the plan and return the protection as a string of 0/1. */
static void
plan(struct protect_bridge *b, size_t n, const struct protect_config *c,
    char *out)
{
	struct protect_change ch[16];
	size_t k, i;

	k = protect_plan(b, n, c, ch);
	for (i = 0; i < k; i++)
		b[ch[i].index].protected_now = ch[i].protect;
	for (i = 0; i < n; i++)
		out[i] = b[i].protected_now ? '1' : '0';
	out[n] = '\0';
}

static void
test_issue_example(void)
{
	/* 0, 3, 40 and 120 participants: only the empty one is free */
	struct protect_bridge b[] = {
		B("i-0", 0, false), B("i-3", 3, false), B("i-40", 40, false),
		B("i-120", 120, false),
	};
	struct protect_config c = { .threshold = 0, .hysteresis = 0,
	    .unprotected_min = 1 };
	char s[8];

	plan(b, 4, &c, s);
	test_assert_str(s, "0111");
	/* the empty one went (scaled in); the 120 one empties */
	b[0].in_service = false;
	b[3].participants = 0;
	plan(b, 4, &c, s);
	test_assert_str(s, "0110");
}

static void
test_never_all_protected(void)
{
	struct protect_bridge b[] = {
		B("i-a", 50, true), B("i-b", 7, true), B("i-c", 30, true),
	};
	struct protect_config c = { .threshold = 0, .hysteresis = 0,
	    .unprotected_min = 1 };
	struct protect_change ch[4];
	char s[8];

	plan(b, 3, &c, s);
	test_assert_str(s, "101");	/* the least loaded is released */
	c.unprotected_min = 2;
	plan(b, 3, &c, s);
	test_assert_str(s, "100");	/* then the next least loaded (30) */
	/* one bridge alone is never protected */
	{
		struct protect_bridge one[] = { B("i-x", 99, false) };

		test_assert_int(protect_plan(one, 1, &c, ch), 0);
	}
}

static void
test_threshold_and_hysteresis(void)
{
	struct protect_bridge b[] = {
		B("i-0", 0, false), B("i-9", 9, false), B("i-11", 11, false),
		B("i-12", 12, true),
	};
	struct protect_config c = { .threshold = 10, .hysteresis = 3,
	    .unprotected_min = 1 };
	char s[8];

	plan(b, 4, &c, s);
	test_assert_str(s, "0011");
	/* 12 drops to 8: above 10 - 3, it stays protected */
	b[3].participants = 8;
	plan(b, 4, &c, s);
	test_assert_str(s, "0011");
	b[3].participants = 7;
	plan(b, 4, &c, s);
	test_assert_str(s, "0010");
	/* 9 rises to 11: protected */
	b[1].participants = 11;
	plan(b, 4, &c, s);
	test_assert_str(s, "0110");
}

static void
test_unknown_and_not_in_service(void)
{
	struct protect_bridge b[] = {
		B("i-u", -1, true), B("i-v", -1, false), B("i-5", 5, true),
		{ "i-t", 0, true, false },	/* Terminating: left alone */
	};
	struct protect_config c = { .threshold = 0, .hysteresis = 0,
	    .unprotected_min = 2 };
	struct protect_change ch[8];
	char s[8];
	size_t k;

	/* unknown loads keep their protection; i-5 is the known one to
	 * release for the second free slot */
	k = protect_plan(b, 4, &c, ch);
	test_assert_int(k, 1);
	test_assert_int(ch[0].index, 2);
	test_assert(!ch[0].protect);
	test_assert_int(ch[0].reason, PROTECT_REASON_KEEP_MIN);
	plan(b, 4, &c, s);
	test_assert_str(s, "1001");
}

int
main(void)
{
	test_run(test_issue_example);
	test_run(test_never_all_protected);
	test_run(test_threshold_and_hysteresis);
	test_run(test_unknown_and_not_in_service);
	return 0;
}
