/*
 * The Query API answers: the XML tree and the DescribeInstances,
 * DescribeLifecycleHooks, DescribeAutoScalingInstances and
 * DescribeAutoScalingGroups parsers.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/xml.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ip(const char *ip)
{
	unsigned char a[16];

	if (ip != NULL && inet_pton(AF_INET, ip, a) != 1 &&
	    inet_pton(AF_INET6, ip, a) != 1)
		abort();
}

static void
check_id(const char *id)
{
	if (id == NULL || strncmp(id, "i-", 2) != 0)
		abort();
	fuzz_check_printable(id, false);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct xml_node *root;
	struct ec2_instances_result e;
	struct asg_hooks_result h;
	struct asg_instances_result a;
	struct asg_group g;
	size_t i, j;

	if (xml_parse(s, size, &root) == 0) {
		if (root == NULL || root->name == NULL || root->text == NULL)
			abort();
		(void)xml_find(root, "Error");
		(void)xml_path_text(root, "a/b/c");
		xml_free(root);
	}
	if (ec2_parse_instances(s, size, &e) == 0) {
		for (i = 0; i < e.n; i++) {
			check_id(e.inst[i].instance_id);
			fuzz_check_printable(e.inst[i].state, false);
			check_ip(e.inst[i].private_ip);
			check_ip(e.inst[i].public_ip);
			for (j = 0; j < e.inst[i].ntags; j++) {
				fuzz_check_text(e.inst[i].tags[j].key);
				fuzz_check_text(e.inst[i].tags[j].value);
			}
		}
		ec2_instances_result_finish(&e);
	}
	if (asg_parse_hooks(s, size, &h) == 0) {
		for (i = 0; i < h.n; i++) {
			if (!asg_hook_ok(h.hooks[i].name))
				abort();
			fuzz_check_text(h.hooks[i].transition);
			fuzz_check_text(h.hooks[i].default_result);
		}
		asg_hooks_result_finish(&h);
	}
	if (asg_parse_instances(s, size, &a) == 0) {
		for (i = 0; i < a.n; i++) {
			check_id(a.inst[i].instance_id);
			fuzz_check_text(a.inst[i].group);
			fuzz_check_text(a.inst[i].lifecycle_state);
			fuzz_check_text(a.inst[i].health_status);
			fuzz_check_text(a.inst[i].availability_zone);
		}
		asg_instances_result_finish(&a);
	}
	if (asg_parse_group(s, size, "jvb", &g) == 0) {
		if (g.name == NULL || strcmp(g.name, "jvb") != 0)
			abort();
		for (i = 0; i < g.n; i++) {
			check_id(g.inst[i].instance_id);
			if (g.inst[i].group == NULL ||
			    strcmp(g.inst[i].group, "jvb") != 0)
				abort();
			fuzz_check_text(g.inst[i].lifecycle_state);
			fuzz_check_text(g.inst[i].health_status);
			fuzz_check_text(g.inst[i].availability_zone);
		}
		asg_group_finish(&g);
	}
	return 0;
}
