/*
 * Endpoints, argument checks, the Query body, the credentials JSON and
 * the shared credentials/config files (with the environment variables that
 * select them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/autoscaling.h"
#include "aws/creds.h"
#include "aws/creds_file.h"
#include "aws/creds_http.h"
#include "aws/endpoint.h"
#include "aws/imds.h"
#include "aws/query.h"
#include "aws/sqs.h"
#include "handler/buf.h"
#include "tests/test.h"

static void
test_endpoints(void)
{
	struct endpoint e;
	struct endpoint_url u;

	test_assert_int(endpoint_resolve("eu-west-1", NULL, ENDPOINT_SQS, &e),
	    0);
	test_assert_str(e.url, "https://sqs.eu-west-1.amazonaws.com/");
	test_assert_str(e.host, "sqs.eu-west-1.amazonaws.com");
	test_assert_str(e.service, "sqs");
	test_assert_str(e.path, "/");
	test_assert_int(endpoint_resolve("cn-north-1", "", ENDPOINT_EC2, &e),
	    0);
	test_assert_str(e.url, "https://ec2.cn-north-1.amazonaws.com.cn/");
	test_assert_int(endpoint_resolve("us-east-1", NULL,
	    ENDPOINT_AUTOSCALING, &e), 0);
	test_assert_str(e.host, "autoscaling.us-east-1.amazonaws.com");
	/* the override serves all services; signing names stay */
	test_assert_int(endpoint_resolve("us-east-1",
	    "http://127.0.0.1:5000", ENDPOINT_AUTOSCALING, &e), 0);
	test_assert_str(e.url, "http://127.0.0.1:5000/");
	test_assert_str(e.host, "127.0.0.1:5000");
	test_assert_str(e.service, "autoscaling");
	test_assert_str(e.region, "us-east-1");
	test_assert_int(endpoint_resolve("us-east-1", "https://[::1]:8443/x",
	    ENDPOINT_SQS, &e), 0);
	test_assert_str(e.host, "[::1]:8443");
	test_assert_str(e.path, "/x");
	test_assert_str(e.url, "https://[::1]:8443/x");
	/* refused */
	test_assert_int(endpoint_resolve("US-EAST-1", NULL, ENDPOINT_SQS, &e),
	    -EINVAL);
	test_assert_int(endpoint_resolve("", NULL, ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_resolve("us-east-1", "ftp://x/",
	    ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_resolve("us-east-1", "http://u:p@x/",
	    ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_resolve("us-east-1", "http://x:99999/",
	    ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_resolve("us-east-1", "http://x/?a=b",
	    ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_resolve("us-east-1", "http://x y/",
	    ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_resolve("us-east-1", "http://x/a\r\nb",
	    ENDPOINT_SQS, &e), -EINVAL);
	test_assert_int(endpoint_parse_url("http://localhost", &u), 0);
	test_assert_str(u.path, "/");
	test_assert(endpoint_host_is_loopback("127.0.3.4"));
	test_assert(endpoint_host_is_loopback("::1"));
	test_assert(!endpoint_host_is_loopback("10.0.0.1"));
}

static void
test_checks(void)
{
	const char *ids[2] = { "i-0123456789abcdef0", "i-01234567" };
	struct buf b;

	test_assert(query_instance_id_ok("i-0123456789abcdef0"));
	test_assert(query_instance_id_ok("i-01234567"));
	test_assert(!query_instance_id_ok("i-0123456789ABCDEF0"));
	test_assert(!query_instance_id_ok("i-0123"));
	test_assert(!query_instance_id_ok("x-0123456789abcdef0"));
	test_assert(!query_instance_id_ok("i-0123456789abcdef0&a=b"));
	test_assert(asg_token_ok("465e0162-e6af-4786-b4e8-bb544ae58790"));
	test_assert(!asg_token_ok("465e0162-e6af-4786-b4e8-bb544ae5879"));
	test_assert(!asg_token_ok("465e0162xe6af-4786-b4e8-bb544ae58790"));
	test_assert(asg_hook_ok("jvb-drain/terminate_1"));
	test_assert(!asg_hook_ok("jvb drain"));
	test_assert(!asg_hook_ok(""));
	test_assert(asg_group_ok("jvb asg (eu)"));
	test_assert(!asg_group_ok("jvb\nasg"));
	test_assert_int(sqs_check_queue_url(
	    "https://sqs.eu-west-1.amazonaws.com/123456789012/jvb-lc"), 0);
	test_assert_int(sqs_check_queue_url("http://127.0.0.1:5000/1/q"), 0);
	test_assert_int(sqs_check_queue_url("https://sqs.amazonaws.com/"),
	    -EINVAL);
	test_assert_int(sqs_check_queue_url("jvb-lc"), -EINVAL);
	test_assert_int(sqs_check_receipt("AQEBabc+/="), 0);
	test_assert_int(sqs_check_receipt("a b"), -EINVAL);
	test_assert_int(sqs_check_receipt("a\r\nb"), -EINVAL);
	test_assert_int(sqs_check_receipt(""), -EINVAL);

	buf_init(&b);
	query_init(&b, "CompleteLifecycleAction", "2011-01-01");
	query_add(&b, "AutoScalingGroupName", "jvb asg&x=1");
	query_add_list(&b, "InstanceIds.member", ids, 2);
	test_assert_str(b.data, "Action=CompleteLifecycleAction&Version="
	    "2011-01-01&AutoScalingGroupName=jvb%20asg%26x%3D1"
	    "&InstanceIds.member.1=i-0123456789abcdef0"
	    "&InstanceIds.member.2=i-01234567");
	buf_finish(&b);
	test_assert_int(query_decimal("3600"), 3600);
	test_assert_int(query_decimal("-1"), -1);
	test_assert_int(query_decimal("99999999999999999999"), -1);
	test_assert_int(query_decimal(NULL), -1);
}

static void
test_creds_json(void)
{
	struct creds *c = NULL;
	char hint[8];
	const char *imds = "{\"Code\":\"Success\",\"LastUpdated\":"
	    "\"2026-11-24T05:00:00Z\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":"
	    "\"ASIAEXAMPLEKEY123456\",\"SecretAccessKey\":\"s3cr3t/+=\","
	    "\"Token\":\"tok+/=\",\"Expiration\":\"2026-11-24T11:00:00Z\"}";
	const char *ecs = "{\"AccessKeyId\":\"ASIAEXAMPLEKEY123456\","
	    "\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":"
	    "\"2026-11-24T11:00:00.123Z\",\"RoleArn\":\"arn:x\"}";

	test_assert_int(creds_parse_json(imds, strlen(imds), &c), 0);
	test_assert_str(c->access_key_id, "ASIAEXAMPLEKEY123456");
	test_assert_str(c->secret_access_key, "s3cr3t/+=");
	test_assert_str(c->session_token, "tok+/=");
	test_assert_int(c->expiration_ms, 1795518000000LL);
	test_assert_str(creds_key_hint(c, hint), "...3456");
	creds_free(c);
	test_assert_int(creds_parse_json(ecs, strlen(ecs), &c), 0);
	test_assert_int(c->expiration_ms, 1795518000123LL);
	creds_free(c);
	test_assert_int(creds_parse_json("{\"Code\":\"Failure\","
	    "\"Message\":\"x\"}", 30, &c), -EPROTO);
	test_assert_int(creds_parse_json("{\"AccessKeyId\":\"A\"}", 19, &c),
	    -EPROTO);
	test_assert_int(creds_parse_json("{\"AccessKeyId\":\"A B\","
	    "\"SecretAccessKey\":\"s\"}", 40, &c), -EPROTO);
	test_assert_int(creds_parse_json("{\"AccessKeyId\":\"AB\","
	    "\"SecretAccessKey\":\"s\",\"Expiration\":\"tomorrow\"}", 61, &c),
	    -EPROTO);
	test_assert_int(creds_parse_json("not json", 8, &c), -EPROTO);
	/* creds_new validates too */
	test_assert(creds_new("AKID", "sec ret", NULL, 0) == NULL);
	test_assert(creds_new("AKID", "secret", "tok\nen", 0) == NULL);
	test_assert(creds_new("AK/ID", "secret", NULL, 0) == NULL);
}

static const char *const creds_text =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIADEFAULT0000000001\n"
    "aws_secret_access_key = defaultsecret\n"
    "\n"
    "[ops]\r\n"
    "; another comment\r\n"
    "AWS_Access_Key_Id=AKIAOPS00000000000001\r\n"
    "aws_secret_access_key =  ops/secret+key= \r\n"
    "aws_session_token = opstoken\r\n"
    "s3 =\n"
    "  max_concurrent_requests = 20\n"
    "[ops-role]\n"
    "role_arn = arn:aws:iam::1:role/x\n"
    "source_profile = default\n";

static const char *const config_text =
    "[default]\n"
    "region = eu-west-1\n"
    "[profile ops]\n"
    "region = us-east-2\n"
    "[profile cfgonly]\n"
    "aws_access_key_id = AKIACFGONLY000000001\n"
    "aws_secret_access_key = cfgsecret\n"
    "[cfgonly]\n"
    "aws_access_key_id = AKIAWRONGSECTION0001\n";

static void
test_creds_file_parse(void)
{
	struct creds_file_profile p;

	creds_file_profile_init(&p);
	creds_file_parse(creds_text, strlen(creds_text), false, "ops", &p);
	test_assert(p.found);
	test_assert_str(p.access_key_id, "AKIAOPS00000000000001");
	test_assert_str(p.secret_access_key, "ops/secret+key=");
	test_assert_str(p.session_token, "opstoken");
	creds_file_profile_finish(&p);

	creds_file_profile_init(&p);
	creds_file_parse(creds_text, strlen(creds_text), false, "ops-role",
	    &p);
	test_assert(p.found);
	test_assert(p.access_key_id == NULL);
	test_assert_str(p.unsupported, "role_arn");
	creds_file_profile_finish(&p);

	/* config style: [profile x], and [x] is not x there */
	creds_file_profile_init(&p);
	creds_file_parse(config_text, strlen(config_text), true, "cfgonly",
	    &p);
	test_assert_str(p.access_key_id, "AKIACFGONLY000000001");
	creds_file_profile_finish(&p);
	creds_file_profile_init(&p);
	creds_file_parse(config_text, strlen(config_text), true, "ops", &p);
	test_assert_str(p.region, "us-east-2");
	test_assert(p.access_key_id == NULL);
	creds_file_profile_finish(&p);
	creds_file_profile_init(&p);
	creds_file_parse(config_text, strlen(config_text), false, "nope", &p);
	test_assert(!p.found);
	creds_file_profile_finish(&p);
}

static char *
write_temp(const char *text)
{
	char *path = strdup("/tmp/jl-aws-test-XXXXXX");
	int fd = mkstemp(path);

	test_assert(fd >= 0);
	test_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
test_creds_file_load(void)
{
	char *cpath = write_temp(creds_text), *fpath = write_temp(config_text);
	char why[256];
	struct creds *c = NULL;

	setenv("AWS_SHARED_CREDENTIALS_FILE", cpath, 1);
	setenv("AWS_CONFIG_FILE", fpath, 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	test_assert_int(creds_file_load(&c, why, sizeof(why)), 0);
	test_assert_str(c->access_key_id, "AKIADEFAULT0000000001");
	test_assert(c->session_token == NULL);
	test_assert_int(c->expiration_ms, 0);
	creds_free(c);

	setenv("AWS_PROFILE", "ops", 1);
	test_assert_int(creds_file_load(&c, why, sizeof(why)), 0);
	test_assert_str(c->access_key_id, "AKIAOPS00000000000001");
	test_assert_str(c->session_token, "opstoken");
	creds_free(c);

	setenv("AWS_PROFILE", "cfgonly", 1);
	test_assert_int(creds_file_load(&c, why, sizeof(why)), 0);
	test_assert_str(c->access_key_id, "AKIACFGONLY000000001");
	creds_free(c);

	/* a named profile that is missing stops the chain, with a reason */
	setenv("AWS_PROFILE", "missing", 1);
	test_assert_int(creds_file_load(&c, why, sizeof(why)), -ENOKEY);
	test_assert(strstr(why, "missing") != NULL);
	setenv("AWS_PROFILE", "ops-role", 1);
	test_assert_int(creds_file_load(&c, why, sizeof(why)), -ENOTSUP);
	test_assert(strstr(why, "role_arn") != NULL);

	/* no files, no profile named: the chain moves on */
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	test_assert_int(creds_file_load(&c, why, sizeof(why)), -ENOENT);

	unlink(cpath);
	unlink(fpath);
	free(cpath);
	free(fpath);
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
}

static void
test_remote_urls(void)
{
	char url[512], why[256];

	test_assert_int(creds_http_url("/v2/credentials/abc", NULL, url,
	    sizeof(url), why, sizeof(why)), 0);
	test_assert_str(url, "http://169.254.170.2/v2/credentials/abc");
	/* RELATIVE wins over FULL, as in botocore */
	test_assert_int(creds_http_url("/x", "http://127.0.0.1:1/y", url,
	    sizeof(url), why, sizeof(why)), 0);
	test_assert_str(url, "http://169.254.170.2/x");
	test_assert_int(creds_http_url(NULL, "http://127.0.0.1:9/creds",
	    url, sizeof(url), why, sizeof(why)), 0);
	test_assert_int(creds_http_url(NULL, "http://169.254.170.23/v1/c",
	    url, sizeof(url), why, sizeof(why)), 0);
	test_assert_int(creds_http_url(NULL, "http://[fd00:ec2::23]/v1/c",
	    url, sizeof(url), why, sizeof(why)), 0);
	test_assert_int(creds_http_url(NULL, "https://creds.example.com/c",
	    url, sizeof(url), why, sizeof(why)), 0);
	test_assert_int(creds_http_url(NULL, "http://creds.example.com/c",
	    url, sizeof(url), why, sizeof(why)), -EINVAL);
	test_assert(strstr(why, "loopback") != NULL);
	test_assert_int(creds_http_url("/a b", NULL, url, sizeof(url), why,
	    sizeof(why)), -EINVAL);
	test_assert_int(creds_http_url(NULL, NULL, url, sizeof(url), why,
	    sizeof(why)), -ENOENT);

	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	test_assert_int(imds_endpoint_from_env(url, sizeof(url), why,
	    sizeof(why)), 0);
	test_assert_str(url, "http://169.254.169.254");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6", 1);
	test_assert_int(imds_endpoint_from_env(url, sizeof(url), why,
	    sizeof(why)), 0);
	test_assert_str(url, "http://[fd00:ec2::254]");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8111/",
	    1);
	test_assert_int(imds_endpoint_from_env(url, sizeof(url), why,
	    sizeof(why)), 0);
	test_assert_str(url, "http://127.0.0.1:8111");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1/path",
	    1);
	test_assert_int(imds_endpoint_from_env(url, sizeof(url), why,
	    sizeof(why)), -EINVAL);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
}

int
main(void)
{
	test_run(test_endpoints);
	test_run(test_checks);
	test_run(test_creds_json);
	test_run(test_creds_file_parse);
	test_run(test_creds_file_load);
	test_run(test_remote_urls);
	return 0;
}
