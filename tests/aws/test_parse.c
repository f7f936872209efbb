/*
 * The pure parsers: XML tree (and its refusals), the error shapes of the
 * three protocols with their classes, and the answers of every operation.
 * Sample answers in data/ were captured from moto 5.2.1 behind the test
 * harness (tests/harness/awsemu.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/error.h"
#include "aws/sqs.h"
#include "aws/xml.h"
#include "handler/buf.h"
#include "tests/test.h"

static const char *data_dir;

static char *
load(const char *name, size_t *ret_len)
{
	char path[4096], chunk[4096];
	struct buf b;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	buf_init(&b);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	*ret_len = b.len;
	return buf_steal(&b);
}

static int
xml_try(const char *s)
{
	struct xml_node *root = NULL;
	int r = xml_parse(s, strlen(s), &root);

	if (r == 0)
		xml_free(root);
	return r;
}

static void
test_xml_tree(void)
{
	const char *s = "<?xml version=\"1.0\"?>"
	    "<a:Root xmlns:a=\"urn:x\" xmlns=\"urn:y\"><One>1</One>"
	    "<Two><Item>x &amp; y</Item><Item>z</Item></Two>"
	    "<One>again</One><Empty/></a:Root>";
	struct xml_node *root;
	const struct xml_node *n;

	test_assert_int(xml_parse(s, strlen(s), &root), 0);
	test_assert_str(root->name, "Root");
	test_assert_str(xml_path_text(root, "One"), "1");
	n = xml_path(root, "Two/Item");
	test_assert(n != NULL);
	test_assert_str(n->text, "x & y");
	n = xml_next(n);
	test_assert_str(n->text, "z");
	test_assert(xml_next(n) == NULL);
	test_assert_str(xml_next(xml_child(root, "One"))->text, "again");
	test_assert_str(xml_path_text(root, "Empty"), "");
	test_assert(xml_path(root, "Missing/Item") == NULL);
	test_assert(xml_path_text(root, "Two/None") == NULL);
	test_assert_str(xml_find(root, "Item")->text, "x & y");
	xml_free(root);
}

static void
test_xml_refusals(void)
{
	struct buf b;
	int i;

	/* entities of any kind: DOCTYPE is refused outright */
	test_assert_int(xml_try("<!DOCTYPE r [<!ENTITY a \"aaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>"), -EPROTO);
	test_assert_int(xml_try("<!DOCTYPE r SYSTEM \"file:///etc/passwd\">"
	    "<r/>"), -EPROTO);
	test_assert_int(xml_try("<!DOCTYPE r [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><r>&x;</r>"), -EPROTO);
	test_assert_int(xml_try("<r>&undefined;</r>"), -EPROTO);
	test_assert_int(xml_try(""), -EPROTO);
	test_assert_int(xml_try("not xml"), -EPROTO);
	test_assert_int(xml_try("<a><b></a>"), -EPROTO);
	test_assert_int(xml_try("<a/><b/>"), -EPROTO);

	/* depth */
	buf_init(&b);
	for (i = 0; i < XML_MAX_DEPTH; i++)
		buf_puts(&b, "<d>");
	for (i = 0; i < XML_MAX_DEPTH; i++)
		buf_puts(&b, "</d>");
	test_assert_int(xml_try(b.data), 0);
	buf_reset(&b);
	for (i = 0; i < XML_MAX_DEPTH + 1; i++)
		buf_puts(&b, "<d>");
	for (i = 0; i < XML_MAX_DEPTH + 1; i++)
		buf_puts(&b, "</d>");
	test_assert_int(xml_try(b.data), -E2BIG);

	/* text per element */
	buf_reset(&b);
	buf_puts(&b, "<t>");
	for (i = 0; i < XML_MAX_TEXT / 8 + 1; i++)
		buf_puts(&b, "abcdefgh");
	buf_puts(&b, "</t>");
	test_assert_int(xml_try(b.data), -E2BIG);

	/* element count */
	buf_reset(&b);
	buf_puts(&b, "<r>");
	for (i = 0; i < XML_MAX_NODES; i++)
		buf_puts(&b, "<e/>");
	buf_puts(&b, "</r>");
	test_assert_int(xml_try(b.data), -E2BIG);
	buf_finish(&b);
}

static void
parse_error_file(const char *name, struct aws_error *err)
{
	size_t len;
	char *text = load(name, &len), *nl, *sp, *qe = NULL;
	long status;

	nl = strchr(text, '\n');
	test_assert(nl != NULL);
	*nl = '\0';
	status = strtol(text, &sp, 10);
	if (*sp == ' ')
		qe = sp + 1;
	error_from_response(status, qe, nl + 1, len - (size_t)(nl + 1 - text),
	    err);
	free(text);
}

static void
expect_error(const char *name, enum aws_error_kind kind,
    enum aws_error_class cls, const char *code, const char *msg_part)
{
	struct aws_error err;

	parse_error_file(name, &err);
	if (err.kind != kind || err.cls != cls || strcmp(err.code, code) != 0 ||
	    strstr(err.message, msg_part) == NULL) {
		fprintf(stderr, "%s: kind %d cls %s code \"%s\" message "
		    "\"%s\"\n", name, err.kind, error_class_name(err.cls),
		    err.code, err.message);
		abort();
	}
}

static void
test_error_captured(void)
{
	expect_error("error_asg_complete_again.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_NO_ACTIVE_ACTION, "ValidationError",
	    "No active Lifecycle Action found with token");
	expect_error("error_sqs_delete_bad.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_RECEIPT_INVALID, "ReceiptHandleIsInvalid",
	    "receipt handle is invalid");
	expect_error("error_sqs_noqueue.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_OTHER, "QueueDoesNotExist", "does not exist");
	expect_error("error_sqs_throttle.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_THROTTLED, "RequestThrottled", "throttled");
	expect_error("error_ec2_throttle.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_THROTTLED, "RequestLimitExceeded", "limit");
	expect_error("error_ec2_notfound.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_UNKNOWN_INSTANCE, "InvalidInstanceID.NotFound",
	    "does not exist");
	expect_error("error_asg_500.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_TRANSIENT, "InternalFailure", "unknown error");
	/* XML in a text/html answer to a JSON protocol request */
	expect_error("error_sqs_badsig.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_SIGNATURE, "SignatureDoesNotMatch", "signature");
	expect_error("error_ec2_badsig.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_SIGNATURE, "AuthFailure", "credentials");
	expect_error("error_sqs_unknownkey.txt", AWS_ERR_SERVICE,
	    AWS_CLASS_EXPIRED_CREDS, "InvalidClientTokenId", "token");
}

static void
from(long status, const char *qe, const char *body, struct aws_error *err)
{
	error_from_response(status, qe, body, body != NULL ? strlen(body) : 0,
	    err);
}

static void
test_error_shapes(void)
{
	struct aws_error e;
	char line[512];

	/* botocore's __type rules: cut at ':', keep after the last '#' */
	from(400, NULL, "{\"__type\":\"com.amazonaws.sqs#Throttling:http://"
	    "internal.amazon.com/\",\"message\":\"slow\"}", &e);
	test_assert_str(e.code, "Throttling");
	test_assert_int(e.cls, AWS_CLASS_THROTTLED);
	test_assert(error_retryable(&e));
	from(400, NULL, "{\"code\":\"AccessDeniedException\",\"Message\":"
	    "\"no\"}", &e);
	test_assert_int(e.cls, AWS_CLASS_ACCESS_DENIED);
	test_assert(!error_retryable(&e));
	test_assert_str(e.message, "no");
	/* the legacy query code classifies when the modern one does not */
	from(403, "AWS.SimpleQueueService.RequestThrottled;Sender",
	    "{\"__type\":\"com.amazonaws.sqs#SomethingNew\"}", &e);
	test_assert_str(e.code, "SomethingNew");
	test_assert_int(e.cls, AWS_CLASS_THROTTLED);
	/* header only */
	from(400, "ReceiptHandleIsInvalid;Sender", "", &e);
	test_assert_int(e.kind, AWS_ERR_SERVICE);
	test_assert_str(e.code, "ReceiptHandleIsInvalid");
	test_assert_int(e.cls, AWS_CLASS_RECEIPT_INVALID);
	/* EC2 and Query shapes, and the one botocore also accepts */
	from(400, NULL, "<Response><Errors><Error><Code>InvalidInstanceID."
	    "Malformed</Code><Message>bad</Message></Error></Errors>"
	    "<RequestID>x</RequestID></Response>", &e);
	test_assert_int(e.cls, AWS_CLASS_UNKNOWN_INSTANCE);
	from(403, NULL, "<ErrorResponse><Error><Code>ExpiredToken</Code>"
	    "<Message>The security token included in the request is "
	    "expired</Message></Error></ErrorResponse>", &e);
	test_assert_int(e.cls, AWS_CLASS_EXPIRED_CREDS);
	test_assert(error_expired_creds(&e));
	from(400, NULL, "<ErrorResponse><Error><Code>ValidationError</Code>"
	    "<Message>Group foo not found</Message></Error></ErrorResponse>",
	    &e);
	test_assert_int(e.cls, AWS_CLASS_OTHER);
	test_assert(!error_retryable(&e));
	/* plain HTTP failures */
	from(503, NULL, "<html>Service Unavailable</html>", &e);
	test_assert_int(e.kind, AWS_ERR_HTTP);
	test_assert_int(e.cls, AWS_CLASS_TRANSIENT);
	test_assert_str(e.message, "HTTP 503");
	from(429, NULL, NULL, &e);
	test_assert_int(e.cls, AWS_CLASS_THROTTLED);
	from(404, NULL, "not found", &e);
	test_assert_int(e.kind, AWS_ERR_HTTP);
	test_assert_int(e.cls, AWS_CLASS_OTHER);
	/* a 5xx with a terminal-looking code is still retried */
	from(500, NULL, "{\"__type\":\"Weird\"}", &e);
	test_assert_int(e.cls, AWS_CLASS_TRANSIENT);
	/* sanitized: control bytes and non-ASCII never reach a log */
	from(400, NULL, "{\"__type\":\"Bad\\u0007Code\",\"message\":"
	    "\"line1\\nline2\\u0001\\u00e9 end\"}", &e);
	test_assert_str(e.code, "Bad");
	/* \u0001 and the two bytes of \u00e9 */
	test_assert_str(e.message, "line1 line2??? end");
	/* transport */
	error_from_transport(-ECONNREFUSED, "Connection refused", &e);
	test_assert_int(e.kind, AWS_ERR_TRANSPORT);
	test_assert_int(e.sys_errno, -ECONNREFUSED);
	test_assert(error_retryable(&e));
	e.attempts = 3;
	error_format(&e, line, sizeof(line));
	test_assert_str(line, "transport: Connection refused [transient, "
	    "3 attempts]");
	from(400, NULL, "<ErrorResponse><Error><Code>ValidationError</Code>"
	    "<Message>No active Lifecycle Action found with instance ID "
	    "i-0123456789abcdef0</Message></Error></ErrorResponse>", &e);
	e.attempts = 1;
	error_format(&e, line, sizeof(line));
	test_assert_str(line, "ValidationError (HTTP 400): No active "
	    "Lifecycle Action found with instance ID i-0123456789abcdef0 "
	    "[no-active-action, 1 attempt]");
}

static void
test_ec2_parse(void)
{
	struct ec2_instances_result res;
	size_t len, i;
	char *body = load("ec2_describe_instances.xml", &len);
	const char *odd =
	    "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
	    "<item><instanceId>i-0123456789abcdef0</instanceId>"
	    "<instanceState><code>48</code><name>terminated</name>"
	    "</instanceState><networkInterfaceSet><item><privateIpAddress>"
	    "10.0.0.9</privateIpAddress></item></networkInterfaceSet>"
	    "<ipAddress>203.0.113.7</ipAddress><tagSet><item><key>k</key>"
	    "</item></tagSet></item>"
	    "<item><instanceId>../etc</instanceId></item>"
	    "<item><instanceId>i-0123456789abcdef1</instanceId>"
	    "<privateIpAddress>10.0.0.1; rm -rf</privateIpAddress></item>"
	    "</instancesSet></item></reservationSet>"
	    "</DescribeInstancesResponse>";
	bool saw_group = false;

	test_assert_int(ec2_parse_instances(body, len, &res), 0);
	test_assert_int(res.n, 2);
	test_assert_str(res.inst[0].instance_id, "i-ddc7566d45c75e340");
	test_assert_str(res.inst[0].state, "running");
	test_assert_str(res.inst[0].private_ip, "127.0.51.4");
	test_assert(res.inst[0].public_ip == NULL);
	test_assert_str(res.inst[1].private_ip, "127.0.51.5");
	test_assert_int(res.inst[0].ntags, 3);
	for (i = 0; i < res.inst[0].ntags; i++)
		if (strcmp(res.inst[0].tags[i].key,
		    "aws:autoscaling:groupName") == 0) {
			test_assert_str(res.inst[0].tags[i].value, "jvb");
			saw_group = true;
		}
	test_assert(saw_group);
	ec2_instances_result_finish(&res);
	free(body);

	test_assert_int(ec2_parse_instances(odd, strlen(odd), &res), 0);
	test_assert_int(res.n, 2);	/* the bad id is dropped */
	test_assert_str(res.inst[0].state, "terminated");
	/* only the instance's own privateIpAddress counts */
	test_assert(res.inst[0].private_ip == NULL);
	test_assert_str(res.inst[0].public_ip, "203.0.113.7");
	test_assert_int(res.inst[0].ntags, 1);
	test_assert_str(res.inst[0].tags[0].value, "");
	test_assert(res.inst[1].private_ip == NULL);
	ec2_instances_result_finish(&res);

	test_assert_int(ec2_parse_instances("<Other/>", 8, &res), -EPROTO);
	test_assert_int(ec2_parse_instances("{}", 2, &res), -EPROTO);
}

static void
test_asg_parse(void)
{
	struct asg_hooks_result hooks;
	struct asg_instances_result inst;
	size_t len;
	char *body = load("asg_describe_hooks.xml", &len);

	test_assert_int(asg_parse_hooks(body, len, &hooks), 0);
	test_assert_int(hooks.n, 1);
	test_assert_str(hooks.hooks[0].name, "jvb-drain");
	test_assert_str(hooks.hooks[0].transition,
	    "autoscaling:EC2_INSTANCE_TERMINATING");
	test_assert_str(hooks.hooks[0].default_result, "ABANDON");
	test_assert_int(hooks.hooks[0].heartbeat_timeout_s, 60);
	test_assert_int(hooks.hooks[0].global_timeout_s, 6000);
	asg_hooks_result_finish(&hooks);
	test_assert_int(asg_parse_hooks(body, len / 2, &hooks), -EPROTO);
	free(body);

	body = load("asg_describe_instances.xml", &len);
	test_assert_int(asg_parse_instances(body, len, &inst), 0);
	test_assert_int(inst.n, 2);
	test_assert_str(inst.inst[0].instance_id, "i-ddc7566d45c75e340");
	test_assert_str(inst.inst[0].group, "jvb");
	test_assert_str(inst.inst[0].lifecycle_state, "InService");
	test_assert_str(inst.inst[0].health_status, "Healthy");
	test_assert(!inst.inst[0].protected_from_scale_in);
	asg_instances_result_finish(&inst);
	/* the wrong answer for the operation */
	test_assert_int(asg_parse_hooks(body, len, &hooks), -EPROTO);
	free(body);

	body = load("asg_complete.xml", &len);
	test_assert_int(asg_parse_instances(body, len, &inst), -EPROTO);
	free(body);
}

static void
test_asg_parse_group(void)
{
	struct asg_group g;
	size_t len;
	char *body = load("asg_describe_group.xml", &len);
	const char *odd =
	    "<DescribeAutoScalingGroupsResponse>"
	    "<DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>other"
	    "</AutoScalingGroupName><Instances><member><InstanceId>"
	    "i-0123456789abcdef9</InstanceId></member></Instances></member>"
	    "<member><AutoScalingGroupName>jvb</AutoScalingGroupName>"
	    "<MinSize>-1</MinSize><MaxSize>99999999999999999999</MaxSize>"
	    "<NewInstancesProtectedFromScaleIn>TRUE"
	    "</NewInstancesProtectedFromScaleIn>"
	    "<CapacityRebalance>true</CapacityRebalance><Instances>"
	    "<member><InstanceId>i-0123456789abcdef0</InstanceId>"
	    "<AvailabilityZone>eu-west-1a&#10;x</AvailabilityZone>"
	    "<ProtectedFromScaleIn>true</ProtectedFromScaleIn></member>"
	    "<member><InstanceId>../etc</InstanceId></member>"
	    "<member><InstanceId>i-0123456789abcdef1</InstanceId>"
	    "<ProtectedFromScaleIn>1</ProtectedFromScaleIn></member>"
	    "</Instances></member></AutoScalingGroups>"
	    "</DescribeAutoScalingGroupsResult>"
	    "</DescribeAutoScalingGroupsResponse>";
	const char *none = "<DescribeAutoScalingGroupsResponse>"
	    "<DescribeAutoScalingGroupsResult><AutoScalingGroups/>"
	    "</DescribeAutoScalingGroupsResult>"
	    "</DescribeAutoScalingGroupsResponse>";

	/* captured: one member terminating, one protected, one plain */
	test_assert_int(asg_parse_group(body, len, "jvb", &g), 0);
	test_assert_str(g.name, "jvb");
	test_assert_int(g.min_size, 0);
	test_assert_int(g.max_size, 13);
	test_assert_int(g.desired_capacity, 2);
	test_assert(!g.new_instances_protected);
	test_assert(!g.capacity_rebalance);
	test_assert_int(g.n, 3);
	test_assert_str(g.inst[0].instance_id, "i-31abdb57a588e852f");
	test_assert_str(g.inst[0].group, "jvb");
	test_assert_str(g.inst[0].lifecycle_state, "Terminating:Wait");
	test_assert_str(g.inst[0].health_status, "Healthy");
	test_assert_str(g.inst[0].availability_zone, "us-east-1d");
	test_assert(!g.inst[0].protected_from_scale_in);
	test_assert_str(g.inst[1].lifecycle_state, "InService");
	test_assert(g.inst[1].protected_from_scale_in);
	test_assert(!g.inst[2].protected_from_scale_in);
	asg_group_finish(&g);
	test_assert_int(asg_parse_group(body, len, "other", &g), -ENOENT);
	test_assert_int(asg_parse_group(body, len, NULL, &g), -ENOENT);
	test_assert_int(asg_parse_group(body, len / 2, "jvb", &g), -EPROTO);
	free(body);

	/* the wrong answer for the operation */
	body = load("asg_describe_instances.xml", &len);
	test_assert_int(asg_parse_group(body, len, "jvb", &g), -EPROTO);
	free(body);
	/* no such group: an empty list */
	test_assert_int(asg_parse_group(none, strlen(none), "jvb", &g),
	    -ENOENT);

	/* only the named group counts; odd fields are dropped, not trusted */
	test_assert_int(asg_parse_group(odd, strlen(odd), "jvb", &g), 0);
	test_assert_int(g.n, 2);	/* the bad id is dropped */
	test_assert_str(g.inst[0].instance_id, "i-0123456789abcdef0");
	test_assert(g.inst[0].availability_zone == NULL); /* newline */
	test_assert(g.inst[0].lifecycle_state == NULL);
	test_assert(g.inst[0].protected_from_scale_in);
	test_assert_str(g.inst[1].instance_id, "i-0123456789abcdef1");
	/* only "true" is true */
	test_assert(!g.inst[1].protected_from_scale_in);
	test_assert_int(g.min_size, 0);
	test_assert_int(g.max_size, 0);
	test_assert_int(g.desired_capacity, 0);
	test_assert(!g.new_instances_protected);
	test_assert(g.capacity_rebalance);
	asg_group_finish(&g);
}

static void
test_sqs_parse(void)
{
	struct sqs_receive_result r;
	struct sqs_attributes_result a;
	size_t len;
	char *body = load("sqs_receive.json", &len);
	const char *odd = "{\"Messages\":[{\"MessageId\":\"m1\","
	    "\"ReceiptHandle\":\"rh1\",\"Body\":\"a\\u0000b\","
	    "\"Attributes\":{\"ApproximateReceiveCount\":\"x\"}},"
	    "{\"MessageId\":\"m2\",\"Body\":\"no handle\"},"
	    "{\"MessageId\":\"m3\",\"ReceiptHandle\":\"has space\","
	    "\"Body\":\"\"},"
	    "{\"MessageId\":\"m4\",\"ReceiptHandle\":\"rh4\",\"Body\":\"\","
	    "\"Attributes\":{\"ApproximateReceiveCount\":\"7\","
	    "\"SentTimestamp\":\"1700000000000\"}}]}";

	test_assert_int(sqs_parse_receive(body, len, &r), 0);
	test_assert_int(r.n, 2);
	test_assert_int(r.skipped, 0);
	test_assert_str(r.msgs[0].message_id,
	    "d60b8d50-7227-4ac2-8d11-470700b1fede");
	test_assert_int(r.msgs[0].receive_count, 1);
	test_assert_int(r.msgs[0].sent_timestamp_ms, 1795503428009LL);
	test_assert(strstr(r.msgs[0].body, "TEST_NOTIFICATION") != NULL);
	test_assert_int(r.msgs[0].body_len, strlen(r.msgs[0].body));
	test_assert(strstr(r.msgs[1].body, "EC2_INSTANCE_TERMINATING") != NULL);
	sqs_receive_result_finish(&r);
	free(body);

	body = load("sqs_receive_empty.json", &len);
	test_assert_int(sqs_parse_receive(body, len, &r), 0);
	test_assert_int(r.n, 0);
	sqs_receive_result_finish(&r);
	free(body);
	test_assert_int(sqs_parse_receive("{\"Messages\":[]}", 15, &r), 0);
	test_assert_int(r.n, 0);
	sqs_receive_result_finish(&r);

	test_assert_int(sqs_parse_receive(odd, strlen(odd), &r), 0);
	test_assert_int(r.n, 2);
	test_assert_int(r.skipped, 2);
	test_assert_int(r.msgs[0].body_len, 3);	/* NUL kept, length honest */
	test_assert_int(r.msgs[0].receive_count, 0);
	test_assert_int(r.msgs[1].receive_count, 7);
	test_assert_int(r.msgs[1].sent_timestamp_ms, 1700000000000LL);
	sqs_receive_result_finish(&r);

	test_assert_int(sqs_parse_receive("[]", 2, &r), -EPROTO);
	test_assert_int(sqs_parse_receive("{\"Messages\":{}}", 15, &r),
	    -EPROTO);
	test_assert_int(sqs_parse_receive("<xml/>", 6, &r), -EPROTO);

	body = load("sqs_attributes.json", &len);
	test_assert_int(sqs_parse_attributes(body, len, &a), 0);
	test_assert_int(a.attrs.visibility_timeout_s, 30);
	test_assert_int(a.attrs.approx_messages, 0);
	test_assert_int(a.attrs.approx_not_visible, 2);
	test_assert_int(a.attrs.message_retention_s, 345600);
	test_assert_int(a.attrs.max_receive_count, -1);
	test_assert_str(a.attrs.queue_arn,
	    "arn:aws:sqs:us-east-1:123456789012:jvb-lifecycle");
	test_assert(a.attrs.dead_letter_arn == NULL);
	sqs_attributes_result_finish(&a);
	free(body);
	{
		const char *rp = "{\"Attributes\":{\"RedrivePolicy\":"
		    "\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:1:"
		    "dlq\\\",\\\"maxReceiveCount\\\":5}\"}}";

		test_assert_int(sqs_parse_attributes(rp, strlen(rp), &a), 0);
		test_assert_int(a.attrs.max_receive_count, 5);
		test_assert_str(a.attrs.dead_letter_arn,
		    "arn:aws:sqs:us-east-1:1:dlq");
		test_assert_int(a.attrs.visibility_timeout_s, -1);
		sqs_attributes_result_finish(&a);
	}
}

int
main(void)
{
	if ((data_dir = getenv("AWS_TEST_DATA")) == NULL)
		data_dir = "tests/aws/data";
	test_run(test_xml_tree);
	test_run(test_xml_refusals);
	test_run(test_error_captured);
	test_run(test_error_shapes);
	test_run(test_ec2_parse);
	test_run(test_asg_parse);
	test_run(test_asg_parse_group);
	test_run(test_sqs_parse);
	return 0;
}
