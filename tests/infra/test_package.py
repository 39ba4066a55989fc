"""The deployable package, built offline as CI builds it: the template passes cfn-lint, holds
every resource the code needs with least privilege, the table equals what the code uses, and
the slim zip runs on a Lambda-like Python that has only the runtime's own packages."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from chalicelib.store.models import Item
from devstack.queues import MAX_RECEIVES
from infra import package, stack

STAGES = sorted(stack.STAGES)


@pytest.fixture(scope="module")
def built(request, tmp_path_factory, testrun_uid) -> tuple[dict[str, package.Packaged], dict]:
    """Both stages, packaged once per test run by ``package_stages`` (the runtime's wheels
    installed once per requirements.txt, in build/.runtime-dependencies; each zip is the one
    ``python -m infra.package STAGE`` ships), and their templates with a broken one through one
    cfn-lint (most of a run is cfn-lint loading its schemas). With pytest-xdist the first worker
    to get here builds, under a lock (Chalice's dependency cache is not safe to fill twice at
    once), and the others read its result. (An ``xdist_group`` with ``--dist loadgroup`` would
    spare the other worker its wait here, but loadgroup and loadscope key the work by node id, and
    tests/reliability/test_openapi.py's 100 generated tests share one: 99 of them silently did not
    run.)"""
    import fcntl
    import pickle

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if hasattr(request.config, "workerinput") else base  # the workers' common directory
    root = shared / f"packaged-{testrun_uid}"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "packaged.pickle"
        if not done.exists():
            packaged = package.package_stages(STAGES, root)
            template = json.loads(packaged["prod"].template.read_text())
            template["Resources"]["SendQueue"]["Properties"]["VisibilityTimeout"] = "six minutes"
            broken = root / "broken.json"
            broken.write_text(json.dumps(template))
            linted = _cfn_lint(*(packaged[stage].template for stage in STAGES), broken)
            findings = {path: [finding for finding in json.loads(linted.stdout) if finding["Filename"] == str(path)]
                        for path in (*(packaged[stage].template for stage in STAGES), broken)}
            lint = {"returncode": linted.returncode, "stderr": linted.stderr, "findings": findings, "broken": broken}
            done.write_bytes(pickle.dumps((packaged, lint)))
        return pickle.loads(done.read_bytes())


@pytest.fixture(scope="module")
def packaged(built) -> dict[str, package.Packaged]:
    return built[0]


@pytest.fixture(scope="module")
def linted(built) -> dict:
    """cfn-lint's exit code and its findings (JSON) for each template it was given."""
    return built[1]


def _template(packaged, stage: str) -> dict:
    return json.loads(packaged[stage].template.read_text())


def _resources(template: dict, kind: str) -> dict:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == kind}


def _cfn_lint(*paths: Path) -> subprocess.CompletedProcess:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")  # the pinned one, installed next to this Python
    return subprocess.run([str(cfn_lint), "--include-checks", "I", "--format", "json", "--", *map(str, paths)],
                          capture_output=True, text=True)


# -- cfn-lint -------------------------------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_packaged_template_passes_cfn_lint_with_no_finding(packaged, linted, stage):
    assert linted["findings"][packaged[stage].template] == [], linted["stderr"]


def test_cfn_lint_does_fail_a_broken_template(linted):
    # The same run as the stages' templates: its exit code is theirs too, so it must be this one's finding.
    assert linted["returncode"] != 0 and "E3012" in [finding["Rule"]["Id"] for finding in linted["findings"][linted["broken"]]]
    assert [finding for path, found in linted["findings"].items() if path != linted["broken"] for finding in found] == []


# -- the table: one definition for the code, the local stack and the deployment --------

def _normalised_indexes(indexes) -> dict:
    return {index["IndexName"]: (sorted((key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]),
                                 index["Projection"]["ProjectionType"]) for index in indexes}


@pytest.mark.parametrize("stage", STAGES)
def test_deployed_table_is_infra_table_json(packaged, stage):
    deployed = _template(packaged, stage)["Resources"]["LoyaltyTable"]["Properties"]
    local = stack.table_definition()
    assert deployed["TableName"] == f"loyalty-{stage}"
    for key in ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
                "TimeToLiveSpecification"):
        assert deployed[key] == local[key], key
    assert deployed["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_prod_table_is_protected_and_kept(packaged):
    table = _template(packaged, "prod")["Resources"]["LoyaltyTable"]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_table_json_is_what_the_pynamodb_models_use():
    local = stack.table_definition()
    schema = Item._get_schema()
    assert sorted(map(tuple, (d.values() for d in local["AttributeDefinitions"]))) == \
        sorted((d["AttributeName"], d["AttributeType"]) for d in schema["attribute_definitions"])
    assert sorted((k["AttributeName"], k["KeyType"]) for k in local["KeySchema"]) == \
        sorted((k["AttributeName"], k["KeyType"]) for k in schema["key_schema"])
    models = {index["index_name"]: (sorted((k["AttributeName"], k["KeyType"]) for k in index["key_schema"]),
                                    index["projection"]["ProjectionType"])
              for index in schema["global_secondary_indexes"]}
    assert _normalised_indexes(local["GlobalSecondaryIndexes"]) == models
    assert local["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert "ttl" in Item.get_attributes()


# -- queues, handlers, schedules ------------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_every_queue_handler_reports_partial_failures_on_its_own_queue(packaged, stage):
    template = _template(packaged, stage)
    functions = _resources(template, "AWS::Serverless::Function")
    wired = {}
    for function in functions.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                properties = event["Properties"]
                assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
                queue_id = properties["Queue"]["Fn::GetAtt"][0]
                queue = template["Resources"][queue_id]["Properties"]
                # Lambda refuses an SQS source whose visibility timeout is shorter than the function's.
                assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]
                redrive = queue["RedrivePolicy"]
                assert redrive["maxReceiveCount"] == MAX_RECEIVES
                assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [f"{queue_id}DeadLetters", "Arn"]}
                wired[function["Properties"]["Handler"]] = queue["QueueName"]
    assert wired == {"chalicelib.routes.mail.send_email": f"loyalty-mail-send-{stage}",
                     "chalicelib.routes.mail.delivery_events_handler": f"loyalty-mail-events-{stage}"}


def test_sender_concurrency_is_capped_below_its_reservation(packaged):
    sender = _template(packaged, "prod")["Resources"]["SendEmail"]["Properties"]
    cap = sender["Events"]["SendEmailSqsEventSource"]["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    assert 2 <= cap <= sender["ReservedConcurrentExecutions"]
    assert sender["MemorySize"] >= 512 and sender["Timeout"] == 60


def test_schedules_are_packaged(packaged):
    functions = _resources(_template(packaged, "prod"), "AWS::Serverless::Function")
    schedules = {function["Properties"]["Handler"]: [event["Properties"]["Schedule"]
                                                     for event in function["Properties"]["Events"].values()]
                 for function in functions.values()
                 if any(event["Type"] == "Schedule" for event in function["Properties"].get("Events", {}).values())}
    # A Blueprint's function is packaged with its own module as the handler (chalicelib/routes/<feature>.py).
    assert schedules == {"chalicelib.routes.lifecycle.daily_jobs": ["rate(1 hour)"],
                         "chalicelib.routes.campaigns.send_due_campaigns": ["rate(1 minute)"],
                         "chalicelib.routes.mail.republish_outbox": ["rate(5 minutes)"],
                         "chalicelib.routes.orders.reconcile_orders": ["rate(1 hour)"],
                         "chalicelib.routes.flows.run_flows": ["rate(5 minutes)"],
                         "chalicelib.routes.privacy.erase_shops": ["rate(5 minutes)"],
                         "chalicelib.routes.mail.refresh_sender_domains": ["rate(10 minutes)"],
                         "chalicelib.routes.mail.size_sender": ["rate(1 hour)"],
                         "chalicelib.routes.mail.release_deferred_mail": ["rate(10 minutes)"]}


@pytest.mark.parametrize("stage", STAGES)
def test_every_packaged_handler_is_a_function_of_its_module(packaged, stage):
    """Lambda imports the handler's module on its own (app.py is not imported first for a
    schedule or a queue): each one must resolve, under the name infra/stack.py and
    .chalice/config.json configure it by."""
    import importlib

    functions = _resources(_template(packaged, stage), "AWS::Serverless::Function")
    named = {}
    for function in functions.values():
        module, _, name = function["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), function["Properties"]["Handler"]
        named[name] = module
    configured = json.loads((package.PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert set(named) - {"app"} == set(configured["stages"][stage]["lambda_functions"])
    assert named.get("app") == "app"  # the API handler


def test_ses_events_reach_the_events_queue(packaged):
    resources = _template(packaged, "prod")["Resources"]
    destination = resources["MailEventDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    assert destination["EventDestination"]["SnsDestination"]["TopicARN"] == {"Ref": "MailEventsTopic"}
    assert set(destination["EventDestination"]["MatchingEventTypes"]) >= {"bounce", "complaint", "delivery"}
    subscription = resources["MailEventsSubscription"]["Properties"]
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    assert subscription["RawMessageDelivery"] is True  # the handler reads the SES record as the body
    statement = resources["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "MailEventsTopic"}}}


# -- configuration the code reads ----------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_every_function_is_configured_from_the_stacks_resources(packaged, stage):
    functions = _resources(_template(packaged, stage), "AWS::Serverless::Function")
    # the API, the webhooks' function URL, the send, events and outbox-stream consumers, nine schedules
    # (sizing, flows, deferred mail among them)
    assert len(functions) == 14
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["LOYALTY_STAGE"] == stage and variables["LOYALTY_OUTBOX_STREAM"] == "1"
        assert variables["LOYALTY_TABLE"] == {"Ref": "LoyaltyTable"}
        assert variables["LOYALTY_SEND_QUEUE"] == {"Fn::GetAtt": ["SendQueue", "QueueName"]}
        assert variables["LOYALTY_EVENTS_QUEUE"] == {"Fn::GetAtt": ["EventsQueue", "QueueName"]}
        assert variables["LOYALTY_SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
        assert variables["LOYALTY_ADMIN_TOKEN_SECRET_ARN"] == {"Ref": "AdminTokenSecret"}
        assert variables["LOYALTY_LINK_SIGNING_KEY_SECRET_ARN"] == {"Ref": "LinkSigningKeySecret"}
        assert "LOYALTY_ADMIN_TOKEN" not in variables and "LOYALTY_LINK_SIGNING_KEY" not in variables
        assert function["Properties"]["FunctionName"].startswith(f"loyalty-mail-{stage}-")
    mailer = functions["SendEmail"]["Properties"]["Environment"]["Variables"]
    assert "LOYALTY_PUBLIC_URL" in mailer  # unsubscribe links point at the deployed API


def test_secrets_are_generated_by_the_stack(packaged):
    resources = _template(packaged, "prod")["Resources"]
    for logical_id in ("AdminTokenSecret", "LinkSigningKeySecret"):
        generated = resources[logical_id]["Properties"]["GenerateSecretString"]
        assert generated["GenerateStringKey"] == "current" and generated["PasswordLength"] >= 48
        assert "SecretString" not in resources[logical_id]["Properties"]


# -- least privilege ------------------------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_role_names_each_action_on_its_resources(packaged, stage):
    template = _template(packaged, stage)
    roles = _resources(template, "AWS::IAM::Role")
    assert list(roles) == ["DefaultRole"]
    policies = roles["DefaultRole"]["Properties"]["Policies"]
    assert len(policies) == 1 and "ManagedPolicyArns" not in roles["DefaultRole"]["Properties"]
    granted = {}
    for statement in policies[0]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            assert "*" not in action, action
            granted[action] = resources
        if statement.get("Sid") == "Tracing":  # X-Ray has no resource-level permissions; write-only actions
            assert sorted(actions) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"] and resources == ["*"]
            continue
        if statement.get("Sid") == "SenderQuota":  # reads that name no resource
            assert sorted(actions) == ["lambda:ListEventSourceMappings", "ses:GetAccount"] and resources == ["*"]
            continue
        for resource in resources:
            assert resource != "*" and not (isinstance(resource, str) and resource.endswith(":*:*:*"))
    assert "dynamodb:Scan" not in granted
    assert granted["dynamodb:Query"] == [{"Fn::GetAtt": ["LoyaltyTable", "Arn"]},
                                         {"Fn::Sub": "${LoyaltyTable.Arn}/index/*"}]
    assert granted["sqs:SendMessage"] == [{"Fn::GetAtt": ["SendQueue", "Arn"]}]
    assert granted["secretsmanager:GetSecretValue"] == [{"Ref": "AdminTokenSecret"}, {"Ref": "LinkSigningKeySecret"}]
    assert any("configuration-set/loyalty-mail-" + stage in json.dumps(r) for r in granted["ses:SendRawEmail"])
    for action in ("ses:CreateEmailIdentity", "ses:GetEmailIdentity", "ses:DeleteEmailIdentity",
                   "ses:PutEmailIdentityMailFromAttributes"):  # sending domains: identities only
        assert ["identity/*" in json.dumps(r) for r in granted[action]] == [True], action


# -- API Gateway throttling: the first line in front of the per-client limits -----------

@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_throttles_the_stage_and_the_guessable_routes(packaged, stage):
    from app import app

    settings = _template(packaged, stage)["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    throttles = {(setting["HttpMethod"], setting["ResourcePath"].replace("~1", "/")[1:] if setting["ResourcePath"] != "/*"
                  else "/*"): (setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]) for setting in settings}
    everything = throttles.pop(("*", "/*"))
    assert everything[0] > 0 and everything[1] >= everything[0]
    for (method, path), (rate, burst) in throttles.items():
        assert method in app.routes[path], (method, path)  # a route app.py serves, named the way API Gateway does
        assert rate > 0 and burst >= rate
    assert throttles[("POST", "/admin/session")][0] < everything[0]  # guessing keys
    assert throttles[("GET", "/shops/{shop_id}/codes/{code}")][0] < everything[0]  # guessing codes
    assert throttles[("POST", "/webhooks/{platform}/{shop_id}")][0] >= everything[0]  # never the platforms' deliveries


# -- alarms --------------------------------------------------------------------------

def test_alarms_watch_dead_letters_reputation_and_5xx(packaged):
    template = _template(packaged, "prod")
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    watched = {(alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"],
                tuple(d["Value"] for d in alarm["Properties"]["Dimensions"])) for alarm in alarms.values()
               if "Metrics" not in alarm["Properties"]}  # (metric math alarms: test_send_errors_...)
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("loyalty-mail-send-prod-dlq",)) in watched
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("loyalty-mail-events-prod-dlq",)) in watched
    assert ("AWS/SES", "Reputation.BounceRate", ("loyalty-mail-prod",)) in watched
    assert ("AWS/SES", "Reputation.ComplaintRate", ("loyalty-mail-prod",)) in watched
    assert ("AWS/ApiGateway", "5XXError", ("loyalty-mail-prod", "api")) in watched
    assert template["Resources"]["RestAPI"]["Properties"]["Name"] == "loyalty-mail-prod"  # what 5XXError names
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_send_errors_and_queue_age_are_alarmed(packaged):
    alarms = _resources(_template(packaged, "prod"), "AWS::CloudWatch::Alarm")
    rate = alarms["SendErrorRateAlarm"]["Properties"]
    stats = {m["Id"]: m["MetricStat"]["Metric"] for m in rate["Metrics"] if "MetricStat" in m}
    assert {m["MetricName"] for m in stats.values()} == {"Errors", "Invocations"}
    assert all(m["Dimensions"] == [{"Name": "FunctionName", "Value": "loyalty-mail-prod-send_email"}]
               for m in stats.values())
    assert [m["Expression"] for m in rate["Metrics"] if m.get("ReturnData")] == [
        "IF(invocations > 0, errors / invocations, 0)"] and rate["Threshold"] == 0.05
    age = alarms["SendQueueAgeAlarm"]["Properties"]
    assert (age["MetricName"], age["Dimensions"]) == ("ApproximateAgeOfOldestMessage",
                                                      [{"Name": "QueueName", "Value": "loyalty-mail-send-prod"}])
    bounce, complaint = alarms["BounceRateAlarm"]["Properties"], alarms["ComplaintRateAlarm"]["Properties"]
    assert 0.03 <= bounce["Threshold"] < 0.05 and 0.0005 <= complaint["Threshold"] < 0.001


@pytest.mark.parametrize("stage", STAGES)
def test_dashboard_shows_the_services_own_metrics_reputation_and_queues(packaged, stage):
    from chalicelib.metrics import NAMESPACE

    resources = _template(packaged, stage)["Resources"]
    body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body.replace("${AWS::Region}", "eu-central-1"))["widgets"]
    plotted = {(m[0], m[1]) for w in widgets for m in w["properties"]["metrics"]}
    for metric in ("OrdersApplied", "EmailsSent", "EmailsFailed", "EmailsSkipped", "WebhookLatency", "QueueAge"):
        assert (NAMESPACE, metric) in plotted, metric
    assert {("AWS/SES", "Reputation.BounceRate"), ("AWS/SES", "Reputation.ComplaintRate"),
            ("AWS/SQS", "ApproximateAgeOfOldestMessage")} <= plotted
    own = [m for w in widgets for m in w["properties"]["metrics"] if m[0] == NAMESPACE]
    assert all(m[2:6] == ["Service", "loyalty-mail", "Stage", stage] for m in own)  # what chalicelib/metrics.py writes


@pytest.mark.parametrize("stage", STAGES)
def test_new_outbox_items_reach_the_send_queue_through_the_table_stream(packaged, stage):
    resources = _template(packaged, stage)["Resources"]
    table = resources["LoyaltyTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    (event,) = resources["PublishOutbox"]["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    properties = event["Properties"]
    assert properties["Stream"] == {"Fn::GetAtt": ["LoyaltyTable", "StreamArn"]}
    (pattern,) = [json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "OUTBOX#"}]}}}}
    assert properties["StartingPosition"] == "TRIM_HORIZON" and properties["BisectBatchOnFunctionError"] is True
    assert "RepublishOutbox" in resources  # the sweeper stays the safety net
    statements = resources["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (stream,) = [s for s in statements if s.get("Sid") == "TableStream"]
    assert stream["Resource"] == {"Fn::GetAtt": ["LoyaltyTable", "StreamArn"]}
    assert "dynamodb:GetRecords" in stream["Action"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_sender_is_sized_from_the_ses_quota(packaged, stage):
    resources = _template(packaged, stage)["Resources"]
    variables = resources["SizeSender"]["Properties"]["Environment"]["Variables"]
    assert variables["LOYALTY_SEND_FUNCTION"] == f"loyalty-mail-{stage}-send_email"
    assert resources["SendEmail"]["Properties"]["FunctionName"] == variables["LOYALTY_SEND_FUNCTION"]
    statements = resources["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (scaling,) = [s for s in statements if s.get("Sid") == "SenderScaling"]
    assert f"function:loyalty-mail-{stage}-send_email" in json.dumps(scaling["Resource"])
    assert sorted(scaling["Action"]) == ["lambda:PutFunctionConcurrency", "lambda:UpdateEventSourceMapping"]


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_and_the_api_are_traced(packaged, stage):
    resources = _template(packaged, stage)["Resources"]
    functions = _resources(_template(packaged, stage), "AWS::Serverless::Function")
    assert functions and all(f["Properties"]["Tracing"] == "Active" for f in functions.values())
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is True


@pytest.mark.parametrize("stage", STAGES)
def test_webhooks_have_a_public_function_url_throttled_by_its_reserved_concurrency(packaged, stage):
    template = _template(packaged, stage)
    resources = template["Resources"]
    function = resources["WebhookUrl"]["Properties"]
    assert function["Handler"] == "chalicelib.routes.orders.webhook_url" and function["Tracing"] == "Active"
    (url,) = _resources(template, "AWS::Lambda::Url").values()
    assert url["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": ["WebhookUrl", "Arn"]}
    assert url["Properties"]["AuthType"] == "NONE"  # each delivery's HMAC signature is its authentication
    granted = {(p["Properties"]["Action"], json.dumps(p["Properties"]["FunctionName"]), p["Properties"]["Principal"],
                p["Properties"].get("FunctionUrlAuthType"), p["Properties"].get("InvokedViaFunctionUrl"))
               for p in _resources(template, "AWS::Lambda::Permission").values()}
    assert granted >= {("lambda:InvokeFunctionUrl", '{"Ref": "WebhookUrl"}', "*", "NONE", None),
                       ("lambda:InvokeFunction", '{"Ref": "WebhookUrl"}', "*", None, True)}
    assert template["Outputs"]["WebhookFunctionUrl"]["Value"] == {"Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]}
    # What replaces the REST stage's webhook throttle: the function's reservation, about the deliveries a
    # second the stage lets through (at 50 ms a delivery) and never more than the stage's burst.
    stage_rate, stage_burst = next((rate.rate, rate.burst) for method, path, rate in stack.STAGES[stage].throttles
                                   if path == "/webhooks/{platform}/{shop_id}")
    assert stage_rate * 0.05 <= function["ReservedConcurrentExecutions"] <= stage_burst
    # The shops are shown the URL (the API's environment); the webhook function itself needs no links.
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api["LOYALTY_WEBHOOK_URL"] == {"Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]}
    assert "LOYALTY_PUBLIC_URL" not in function["Environment"]["Variables"]
    # The REST webhook's errors and latency, for this entry too: alarms and the dashboard.
    name = f"loyalty-mail-{stage}-webhook_url"
    alarms = {(a["Properties"]["MetricName"], tuple(d["Value"] for d in a["Properties"]["Dimensions"]))
              for a in _resources(template, "AWS::CloudWatch::Alarm").values() if "MetricName" in a["Properties"]}
    assert {("Url5xxCount", (name,)), ("Throttles", (name,))} <= alarms
    body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    plotted = {(m[1], m[3]) for w in json.loads(body.replace("${AWS::Region}", "eu-central-1"))["widgets"]
               for m in w["properties"]["metrics"] if m[0] == "AWS/Lambda"}
    assert {("UrlRequestCount", name), ("Url5xxCount", name), ("UrlRequestLatency", name), ("Throttles", name)} <= plotted


# -- the zip -------------------------------------------------------------------------

def test_zip_leaves_out_what_the_runtime_has_and_carries_the_templates(packaged):
    result = packaged["prod"]
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert not tops & {"boto3", "botocore", "s3transfer", "urllib3", "dateutil"}
    assert "templates/post_purchase.mjml" in names and "templates/locales/uk.json" in names
    assert "babel/locale-data/uk.dat" in names and "babel/locale-data/ja.dat" not in names
    # What the runtime has (botocore above all), left out, is more than the whole zip (Chalice's own carries it).
    assert result.zip_bytes < 8_000_000 < result.left_out_bytes


def test_compiled_files_left_in_the_project_do_not_ship(tmp_path):
    chalice_zip = tmp_path / "deployment.zip"
    with zipfile.ZipFile(chalice_zip, "w") as archive:
        archive.writestr("app.py", "import chalicelib\n")
        archive.writestr("chalicelib/composition.py", "")
        archive.writestr("chalicelib/__pycache__/composition.cpython-311.pyc", b"stale")
        archive.writestr("chalicelib/services/__pycache__/deps.cpython-311.pyc", b"stale")
    dependencies = tmp_path / "dependencies"
    dependencies.mkdir()
    package.rebuild_zip(chalice_zip, dependencies, slim=True)
    with zipfile.ZipFile(chalice_zip) as archive:
        names = archive.namelist()
    assert "app.py" in names and "chalicelib/composition.py" in names
    assert [name for name in names if "__pycache__" in name or name.endswith(".pyc")] == []


# What only serves the local stack, the tests, the benchmarks or the build: never in the Lambda.
DEVELOPMENT_PACKAGES = ("devstack", "bench", "tests", "infra", "workspace")
DEVELOPMENT_MODULES = ("cli", "samples", "preview", "emulator", "run")  # their former homes in chalicelib


def _our_modules(names: list[str]) -> list[str]:
    return [name for name in names if name.endswith(".py") and (name == "app.py" or name.startswith("chalicelib/"))]


def test_zip_holds_no_development_module(packaged):
    result = packaged["prod"]
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        ours = _our_modules(names)
        sources = {name: archive.read(name) for name in ours}
    tops = {name.split("/", 1)[0] for name in names}
    assert not tops & set(DEVELOPMENT_PACKAGES), tops & set(DEVELOPMENT_PACKAGES)
    assert "app.py" in ours and "chalicelib/composition.py" in ours and "chalicelib/routes/mail.py" in ours
    shipped_stems = {name.rsplit("/", 1)[-1].removesuffix(".py") for name in ours}
    assert not shipped_stems & set(DEVELOPMENT_MODULES), shipped_stems & set(DEVELOPMENT_MODULES)
    assert not [name for name in names if name.startswith("templates/preview/")]
    # Nor does any shipped module import one (the packaged code would fail on its first call).
    import ast

    reaching_out = []
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source, name)):
            imported = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            reaching_out += [(name, module) for module in imported
                             if module.split(".")[0] in DEVELOPMENT_PACKAGES]
    assert reaching_out == []


_SMOKE = textwrap.dedent("""
    import sys
    import app
    assert app.__file__.startswith(sys.argv[1]), app.__file__
    heavy = [name for name in ("mjml", "jinja2", "babel") if name in sys.modules]
    assert not heavy, heavy
    from zoneinfo import ZoneInfo
    from chalicelib.mail import LOCALES, TEMPLATES, TemplateSet, sample_context
    from chalicelib.services.shops.shop_settings import currency_exponent
    templates = TemplateSet.default()
    for template in TEMPLATES:
        for locale in LOCALES:
            email = templates.render(template, locale, sample_context(template, locale))
            assert email.html and email.text and email.subject
    assert currency_exponent("UAH") == 2 and currency_exponent("JPY") == 0
    ZoneInfo("Europe/Kyiv")
    import botocore, pynamodb
    assert not botocore.__file__.startswith(sys.argv[1])
    print("rendered", len(TEMPLATES) * len(LOCALES), "on", sys.version_info[:2])
""")


def _runtime_python() -> str | None:
    """The Lambda runtime's Python version on this machine (on PATH, or under pyenv)."""
    import glob
    import shutil

    version = stack.LAMBDA_RUNTIME.removeprefix("python")
    candidates = [*sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}"))),
                  shutil.which(stack.LAMBDA_RUNTIME)]
    for candidate in filter(None, candidates):  # a pyenv shim may name a version it will not run
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def test_every_function_runs_on_a_supported_runtime(packaged):
    for stage in STAGES:
        functions = _resources(_template(packaged, stage), "AWS::Serverless::Function")
        assert functions and {f["Properties"]["Runtime"] for f in functions.values()} == {stack.LAMBDA_RUNTIME}
    assert stack.LAMBDA_RUNTIME >= "python3.13"
    with zipfile.ZipFile(packaged["prod"].zip_path) as archive:
        extensions = [name for name in archive.namelist() if name.endswith(".so")]
    tag = stack.LAMBDA_RUNTIME.removeprefix("python").replace(".", "")
    # Compiled wheels for the runtime's Python whatever Python built the package (abi3 loads on any).
    assert extensions and all(f"cpython-{tag}-x86_64-linux-gnu" in name or ".abi3." in name for name in extensions)


def test_slim_zip_runs_with_only_the_runtimes_own_packages(packaged, tmp_path):
    python = _runtime_python()
    if python is None:
        pytest.skip(f"no {stack.LAMBDA_RUNTIME} on this machine to run the packaged code with")
    code = tmp_path / "task"
    with zipfile.ZipFile(packaged["prod"].zip_path) as archive:
        archive.extractall(code)
    # What the Lambda runtime adds to the path: boto3 and its dependencies, nothing else.
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    import boto3
    site = Path(boto3.__file__).resolve().parent.parent
    for name in package.RUNTIME_PROVIDED:
        for candidate in (site / name, site / f"{name}.py"):
            if candidate.exists():
                (runtime / candidate.name).symlink_to(candidate)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "LOYALTY_"))}
    env["PYTHONPATH"] = f"{code}{os.pathsep}{runtime}"
    result = subprocess.run([python, "-S", "-c", _SMOKE, str(code)], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    from chalicelib.mail.base import LOCALES, TEMPLATES
    version = tuple(int(part) for part in stack.LAMBDA_RUNTIME.removeprefix("python").split("."))
    assert f"rendered {len(TEMPLATES) * len(LOCALES)} on {version}" in result.stdout
