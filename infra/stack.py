"""Everything a stage needs besides what Chalice generates: the CloudFormation that
``chalice package --merge-template`` merges into its SAM template, and the patches
to Chalice's own functions (``infra/package.py`` applies both).

One source of truth: the table comes from ``infra/table.json`` (the local stack creates
it from the same file), the dead-letter threshold from ``devstack.queues``, the functions
and schedules from ``app.py`` through Chalice (a queue handler added there without a queue
in ``QUEUE_HANDLERS`` fails the packaging). Names are per stage, so dev and prod live side
by side in one account and region.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parent
TABLE_DEFINITION = INFRA_DIR / "table.json"
APP_NAME = "loyalty-mail"
API_STAGE = "api"  # api_gateway_stage in .chalice/config.json
# The Lambda runtime every function runs on, whatever Python packages it (Chalice would take the
# builder's own version). python3.11 is deprecated on 2027-06-30 (cfn-lint E2533).
LAMBDA_RUNTIME = "python3.13"
# Lambda's x86_64 Python runtimes run on Amazon Linux 2023 (glibc 2.34): these wheels load there.
LAMBDA_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")


@dataclass(frozen=True)
class Throttle:
    """API Gateway's throttle for one method of the stage (or all): requests per second and burst,
    all clients together. The first line in front of the per-client limits the code keeps
    (chalicelib/domain/access/limits.py): a flood is refused before it runs a Lambda."""

    rate: float
    burst: int


@dataclass(frozen=True)
class StageOptions:
    """What differs between stages besides names (sizes and limits are in .chalice/config.json)."""

    protect_data: bool  # deletion protection and Retain on the table; PITR is on everywhere
    log_retention_days: int
    send_concurrency: int  # SQS event source MaximumConcurrency of the send handler (<= its reserved concurrency)
    # (method, path as app.py declares it) -> throttle; ("*", "/*") is every method of the stage.
    throttles: tuple[tuple[str, str, Throttle], ...] = ()


def _throttles(everything: Throttle, webhooks: Throttle, sign_in: Throttle, code_checks: Throttle):
    return (
        ("*", "/*", everything),
        # Platforms' deliveries must not be refused in a sale: WooCommerce disables a hook after 5 failures.
        ("POST", "/webhooks/{platform}/{shop_id}", webhooks),
        ("POST", "/admin/session", sign_in),  # guessing keys
        ("GET", "/shops/{shop_id}/codes/{code}", code_checks),  # guessing codes
    )


STAGES: dict[str, StageOptions] = {
    "dev": StageOptions(protect_data=False, log_retention_days=14, send_concurrency=2,
                        throttles=_throttles(everything=Throttle(50, 100), webhooks=Throttle(100, 200),
                                             sign_in=Throttle(1, 5), code_checks=Throttle(10, 20))),
    "prod": StageOptions(protect_data=True, log_retention_days=90, send_concurrency=5,
                         throttles=_throttles(everything=Throttle(300, 600), webhooks=Throttle(1000, 2000),
                                              sign_in=Throttle(2, 10), code_checks=Throttle(100, 200))),
}


def method_settings(options: StageOptions) -> list[dict]:
    """The stage's MethodSettings: API Gateway names a resource path with its slashes as ``~1``."""
    settings = []
    for method, path, throttle in options.throttles:
        resource = path if path == "/*" else "/" + path.replace("/", "~1")
        settings.append({"ResourcePath": resource, "HttpMethod": method,
                         "ThrottlingRateLimit": throttle.rate, "ThrottlingBurstLimit": throttle.burst})
    return settings

# The webhooks' own entry (chalicelib/routes/orders.py webhook_url): a Lambda function URL, so a
# delivery costs no API Gateway request. It has no stage throttle: the function's reserved
# concurrency (.chalice/config.json: 5 in dev, 50 in prod, about the 100 and 1,000 deliveries a
# second the REST stage lets through at 50 ms each) is its throttle. Past it Lambda answers 429,
# which the platforms retry as any other refusal; WebhookUrlThrottlesAlarm says when it happens.
WEBHOOK_URL_FUNCTION = "webhook_url"
WEBHOOK_URL_ID = "WebhookFunctionUrl"

# Queue handler (app.py function name) -> (the queue's logical id, visibility timeout in seconds).
# The visibility timeout is six times the handler's timeout, as Lambda advises for SQS sources.
QUEUE_HANDLERS = {
    "send_email": ("SendQueue", 360),
    "delivery_events_handler": ("EventsQueue", 180),
}
# The stream handler (app.py function name) and what of the table's stream it is given: inserts of
# outbox items only (the other writes never start it: no invocation, no cost).
STREAM_HANDLER = "publish_outbox"
OUTBOX_STREAM_FILTER = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "OUTBOX#"}]}}}}
SCHEDULED_FUNCTIONS = ("daily_jobs", "send_due_campaigns", "republish_outbox", "refresh_sender_domains", "size_sender",
                       "release_deferred_mail")
# SES event types the delivery-events handler acts on (services/delivery_events.py); others cost and are ignored.
SES_EVENT_TYPES = ["bounce", "complaint", "delivery", "open", "click"]
# SES reviews an account at 5 % bounces and 0.1 % complaints: the alarms fire before that.
BOUNCE_RATE_ALARM = 0.04
COMPLAINT_RATE_ALARM = 0.0008


# Stateful resources say what happens to them when the stack goes (cfn-lint I3011).
DISPOSABLE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


def kept(options: StageOptions) -> dict:
    policy = "Retain" if options.protect_data else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


@dataclass(frozen=True)
class Names:
    stage: str

    @property
    def table(self) -> str:
        return f"loyalty-{self.stage}"

    @property
    def send_queue(self) -> str:
        return f"{APP_NAME}-send-{self.stage}"

    @property
    def events_queue(self) -> str:
        return f"{APP_NAME}-events-{self.stage}"

    @property
    def configuration_set(self) -> str:
        return f"{APP_NAME}-{self.stage}"

    @property
    def api(self) -> str:
        return f"{APP_NAME}-{self.stage}"

    def function(self, handler: str) -> str:
        """Chalice's own naming (what ``chalice deploy`` would call the function)."""
        return f"{APP_NAME}-{self.stage}-{handler}"

    def secret(self, what: str) -> str:
        return f"{APP_NAME}/{self.stage}/{what}"


def table_definition() -> dict:
    return json.loads(TABLE_DEFINITION.read_text())


def table_properties(stage: str) -> dict:
    """The deployed table: infra/table.json plus what only a real account has."""
    definition = table_definition()
    properties = {key: definition[key] for key in
                  ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
                   "TimeToLiveSpecification")}
    properties["TableName"] = Names(stage).table
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    # New outbox items reach the send queue through the stream (chalicelib/mail/outbox.py).
    properties["StreamSpecification"] = {"StreamViewType": "NEW_IMAGE"}
    properties["DeletionProtectionEnabled"] = STAGES[stage].protect_data
    return properties


def _arn(service: str, resource: str) -> dict:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"}


def _queue_pair(logical_id: str, name: str, visibility_timeout: int) -> dict:
    from devstack.queues import MAX_RECEIVES

    return {
        f"{logical_id}DeadLetters": {
            "Type": "AWS::SQS::Queue",
            **DISPOSABLE,
            "Properties": {"QueueName": f"{name}-dlq", "MessageRetentionPeriod": 14 * 24 * 3600,
                           "SqsManagedSseEnabled": True},
        },
        logical_id: {
            "Type": "AWS::SQS::Queue",
            **DISPOSABLE,  # in-flight mail is re-published from the outbox, which lives in the table
            "Properties": {
                "QueueName": name,
                "VisibilityTimeout": visibility_timeout,
                "MessageRetentionPeriod": 4 * 24 * 3600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [f"{logical_id}DeadLetters", "Arn"]},
                                  "maxReceiveCount": MAX_RECEIVES},
            },
        },
    }


def _alarm(description: str, namespace: str, metric: str, dimensions: dict, *, statistic: str, threshold: float,
           period: int = 300, evaluation_periods: int = 1, comparison: str = "GreaterThanOrEqualToThreshold") -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": evaluation_periods,
            "Threshold": threshold,
            "ComparisonOperator": comparison,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


METRICS_NAMESPACE = "LoyaltyMail"  # chalicelib/metrics.py writes here (CloudWatch embedded metric format)
SEND_ERROR_RATE_ALARM = 0.05  # share of the send handler's invocations that end in an error


def _error_rate_alarm(function_name: str) -> dict:
    """Errors over invocations of one function, 5 % or more for 10 minutes (metric math: a burst of
    traffic with a few errors is not an outage; a quiet hour with one error is not either)."""
    def metric(name: str, metric_id: str) -> dict:
        return {"Id": metric_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": name,
                       "Dimensions": [{"Name": "FunctionName", "Value": function_name}]},
            "Period": 300, "Stat": "Sum"}}

    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"{function_name}: 5 % or more of the invocations failed (SES errors, poison "
                                "messages, the table)",
            "Metrics": [metric("Errors", "errors"), metric("Invocations", "invocations"),
                        {"Id": "rate", "Label": "error rate", "ReturnData": True,
                         "Expression": "IF(invocations > 0, errors / invocations, 0)"}],
            "EvaluationPeriods": 2, "DatapointsToAlarm": 2, "Threshold": SEND_ERROR_RATE_ALARM,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


def dashboard_body(stage: str) -> dict:
    """The operations dashboard: what the service did (its own metrics), how the mail is received
    (SES reputation), whether it keeps up (queues) and whether it fails (Lambda, API)."""
    names = Names(stage)
    region = "${AWS::Region}"
    service = ["Service", APP_NAME, "Stage", stage]

    def own(metric: str, *extra: str) -> list:
        return [METRICS_NAMESPACE, metric, *service, *extra]

    def graph(title: str, metrics: list, *, x: int, y: int, stat: str = "Sum", period: int = 300,
              annotations: list | None = None) -> dict:
        properties = {"title": title, "region": region, "metrics": metrics, "stat": stat, "period": period,
                      "view": "timeSeries", "stacked": False}
        if annotations:
            properties["annotations"] = {"horizontal": annotations}
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties}

    send_fn, api, webhook_fn = names.function("send_email"), names.api, names.function(WEBHOOK_URL_FUNCTION)
    return {"widgets": [
        graph("Orders applied and webhooks refused", [own("OrdersApplied"), own("WebhooksRefused")], x=0, y=0),
        graph("Webhook latency (ms, p50 / p99)", [own("WebhookLatency", {"stat": "p50"}),
                                                  own("WebhookLatency", {"stat": "p99"})],
              x=12, y=0, stat="p50"),
        graph("E-mails sent, failed, skipped, held", [own("EmailsSent"), own("EmailsFailed"), own("EmailsSkipped"),
                                                      own("EmailsHeld")], x=0, y=6),
        graph("SES reputation (account review at 5 % / 0.1 %)",
              [["AWS/SES", "Reputation.BounceRate", "ses:configuration-set", names.configuration_set],
               ["AWS/SES", "Reputation.ComplaintRate", "ses:configuration-set", names.configuration_set]],
              x=12, y=6, stat="Maximum", period=3600,
              annotations=[{"label": "bounce alarm", "value": BOUNCE_RATE_ALARM},
                           {"label": "complaint alarm", "value": COMPLAINT_RATE_ALARM}]),
        graph("Send queue: age of oldest (s) and waiting",
              [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", names.send_queue, {"stat": "Maximum"}],
               ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", names.send_queue,
                {"stat": "Maximum", "yAxis": "right"}],
               own("QueueAge", {"stat": "Maximum"})], x=0, y=12, stat="Maximum"),
        graph("Dead letters", [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"{names.send_queue}-dlq"],
                               ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                                f"{names.events_queue}-dlq"]], x=12, y=12, stat="Maximum"),
        graph("Sender: invocations, errors, concurrency",
              [["AWS/Lambda", "Invocations", "FunctionName", send_fn], ["AWS/Lambda", "Errors", "FunctionName", send_fn],
               ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", send_fn, {"stat": "Maximum", "yAxis": "right"}]],
              x=0, y=18),
        graph("API: requests, 4xx, 5xx, latency p99",
              [["AWS/ApiGateway", "Count", "ApiName", api, "Stage", API_STAGE],
               ["AWS/ApiGateway", "4XXError", "ApiName", api, "Stage", API_STAGE],
               ["AWS/ApiGateway", "5XXError", "ApiName", api, "Stage", API_STAGE],
               ["AWS/ApiGateway", "Latency", "ApiName", api, "Stage", API_STAGE, {"stat": "p99", "yAxis": "right"}]],
              x=12, y=18),
        graph("Webhook function URL: requests, 4xx, 5xx, throttles, latency p99",
              [["AWS/Lambda", "UrlRequestCount", "FunctionName", webhook_fn],
               ["AWS/Lambda", "Url4xxCount", "FunctionName", webhook_fn],
               ["AWS/Lambda", "Url5xxCount", "FunctionName", webhook_fn],
               ["AWS/Lambda", "Throttles", "FunctionName", webhook_fn],
               ["AWS/Lambda", "UrlRequestLatency", "FunctionName", webhook_fn, {"stat": "p99", "yAxis": "right"}]],
              x=0, y=24),
    ]}


def dashboard(stage: str) -> dict:
    return {"Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": Names(stage).api,
                           "DashboardBody": {"Fn::Sub": json.dumps(dashboard_body(stage), separators=(",", ":"))}}}


def resources(stage: str) -> dict:
    """The template merged into Chalice's: data, queues, mail events, secrets, alarms, the role's policy."""
    names = Names(stage)
    options = STAGES[stage]
    template: dict = {
        "Parameters": {
            "AlarmEmail": {"Type": "String", "Default": "",
                           "Description": "Where alarms are mailed (confirm the subscription); empty for none"},
            "PublicUrl": {"Type": "String", "Default": "",
                          "Description": "Base URL of the API in e-mail links (a custom domain); empty for the "
                                         "API Gateway URL"},
        },
        "Conditions": {
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
            "HasPublicUrl": {"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicUrl"}, ""]}]},
        },
        "Resources": {
            "LoyaltyTable": {
                "Type": "AWS::DynamoDB::Table",
                **kept(options),
                "Properties": table_properties(stage),
            },
            **_queue_pair("SendQueue", names.send_queue, QUEUE_HANDLERS["send_email"][1]),
            **_queue_pair("EventsQueue", names.events_queue, QUEUE_HANDLERS["delivery_events_handler"][1]),
            # SES publishes delivery events to SNS, which hands them to the events queue as they are.
            "MailEventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{names.configuration_set}-events"}},
            "MailEventsTopicPolicy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "Topics": [{"Ref": "MailEventsTopic"}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"}, "Action": "sns:Publish",
                        "Resource": {"Ref": "MailEventsTopic"},
                        "Condition": {"StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }]},
                },
            },
            "MailEventsSubscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": {"Ref": "MailEventsTopic"}, "Protocol": "sqs",
                               "Endpoint": {"Fn::GetAtt": ["EventsQueue", "Arn"]}, "RawMessageDelivery": True},
            },
            "EventsQueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "EventsQueue"}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                        "Resource": {"Fn::GetAtt": ["EventsQueue", "Arn"]},
                        "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "MailEventsTopic"}}},
                    }]},
                },
            },
            "MailConfigurationSet": {
                "Type": "AWS::SES::ConfigurationSet",
                "Properties": {
                    "Name": names.configuration_set,
                    "ReputationOptions": {"ReputationMetricsEnabled": True},
                    "SendingOptions": {"SendingEnabled": True},
                    "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
                },
            },
            "MailEventDestination": {
                "Type": "AWS::SES::ConfigurationSetEventDestination",
                "DependsOn": ["MailEventsTopicPolicy"],
                "Properties": {
                    "ConfigurationSetName": {"Ref": "MailConfigurationSet"},
                    "EventDestination": {"Name": "events-queue", "Enabled": True,
                                         "MatchingEventTypes": SES_EVENT_TYPES,
                                         "SnsDestination": {"TopicARN": {"Ref": "MailEventsTopic"}}},
                },
            },
            # Generated at the first deploy, never in a file or a parameter; rotation: README.
            "AdminTokenSecret": {
                "Type": "AWS::SecretsManager::Secret",
                **kept(options),
                "Properties": {
                    "Name": names.secret("admin-token"),
                    "Description": "Bearer token of the admin API: {\"current\": ..., \"previous\": ...}",
                    "GenerateSecretString": {"SecretStringTemplate": "{}", "GenerateStringKey": "current",
                                             "PasswordLength": 48, "ExcludePunctuation": True},
                },
            },
            "LinkSigningKeySecret": {
                "Type": "AWS::SecretsManager::Secret",
                **kept(options),  # losing it would break the unsubscribe links of every mail already sent
                "Properties": {
                    "Name": names.secret("link-signing-key"),
                    "Description": "HMAC key of unsubscribe links: {\"current\": ..., \"previous\": ...}",
                    "GenerateSecretString": {"SecretStringTemplate": "{}", "GenerateStringKey": "current",
                                             "PasswordLength": 64, "ExcludePunctuation": True},
                },
            },
            "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{names.api}-alarms"}},
            "AlarmEmailSubscription": {
                "Type": "AWS::SNS::Subscription",
                "Condition": "HasAlarmEmail",
                "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email",
                               "Endpoint": {"Ref": "AlarmEmail"}},
            },
            "SendDeadLettersAlarm": _alarm(
                "E-mails that failed all their tries are parked in the send dead-letter queue", "AWS/SQS",
                "ApproximateNumberOfMessagesVisible", {"QueueName": f"{names.send_queue}-dlq"},
                statistic="Maximum", threshold=1),
            "EventsDeadLettersAlarm": _alarm(
                "SES delivery events that failed all their tries are parked in the events dead-letter queue",
                "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": f"{names.events_queue}-dlq"},
                statistic="Maximum", threshold=1),
            "BounceRateAlarm": _alarm(
                "SES bounce rate of this configuration set near the 5 % at which SES reviews the account",
                "AWS/SES", "Reputation.BounceRate", {"ses:configuration-set": names.configuration_set},
                statistic="Maximum", threshold=BOUNCE_RATE_ALARM, period=3600),
            "ComplaintRateAlarm": _alarm(
                "SES complaint rate of this configuration set near the 0.1 % at which SES reviews the account",
                "AWS/SES", "Reputation.ComplaintRate", {"ses:configuration-set": names.configuration_set},
                statistic="Maximum", threshold=COMPLAINT_RATE_ALARM, period=3600),
            "Api5xxAlarm": _alarm(
                "The API answered 5xx (webhooks are retried by the platforms, but a burst means an outage)",
                "AWS/ApiGateway", "5XXError", {"ApiName": names.api, "Stage": API_STAGE},
                statistic="Sum", threshold=5, evaluation_periods=2),
            "SendErrorRateAlarm": _error_rate_alarm(names.function("send_email")),
            "SendQueueAgeAlarm": _alarm(
                "The oldest e-mail on the send queue waited over 15 minutes: the sender is not keeping up "
                "(SES quota, concurrency) or is failing", "AWS/SQS", "ApproximateAgeOfOldestMessage",
                {"QueueName": names.send_queue}, statistic="Maximum", threshold=900, evaluation_periods=2),
            **webhook_url_resources(stage),
            "OperationsDashboard": dashboard(stage),
            "DefaultRole": {"Properties": {"Policies": [{"PolicyName": "DefaultRolePolicy",
                                                         "PolicyDocument": role_policy(stage)}]}},
            "RestAPI": {"Properties": {"Name": names.api, "MethodSettings": method_settings(options),
                                       "TracingEnabled": True}},
        },
    }
    template["Outputs"] = {
        "TableName": {"Value": {"Ref": "LoyaltyTable"}},
        "SendQueueUrl": {"Value": {"Ref": "SendQueue"}},
        "SendDeadLetterQueueUrl": {"Value": {"Ref": "SendQueueDeadLetters"}},
        "EventsDeadLetterQueueUrl": {"Value": {"Ref": "EventsQueueDeadLetters"}},
        "ConfigurationSetName": {"Value": {"Ref": "MailConfigurationSet"}},
        "AdminTokenSecretArn": {"Value": {"Ref": "AdminTokenSecret"}},
        "LinkSigningKeySecretArn": {"Value": {"Ref": "LinkSigningKeySecret"}},
        "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        "DashboardName": {"Value": {"Ref": "OperationsDashboard"}},
        # The shops' webhook address: this + webhooks/<platform>/<shop_id> (the API's /webhooks route stays)
        "WebhookFunctionUrl": {"Value": {"Fn::GetAtt": [WEBHOOK_URL_ID, "FunctionUrl"]}},
    }
    for handler in SCHEDULED_FUNCTIONS:
        logical_id = _logical_id(handler)
        template["Resources"][f"{logical_id}ErrorsAlarm"] = _alarm(
            f"The scheduled job {handler} failed", "AWS/Lambda", "Errors",
            {"FunctionName": names.function(handler)}, statistic="Sum", threshold=1, period=3600)
    return template


def webhook_url_resources(stage: str) -> dict:
    """The webhooks' function URL, open to anyone as the REST route is (each delivery's HMAC signature
    is its authentication: chalicelib/platforms/signing.py), and its alarms: errors and throttles."""
    function = _logical_id(WEBHOOK_URL_FUNCTION)
    function_name = Names(stage).function(WEBHOOK_URL_FUNCTION)
    return {
        WEBHOOK_URL_ID: {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Fn::GetAtt": [function, "Arn"]}, "AuthType": "NONE",
                           "InvokeMode": "BUFFERED"},
        },
        # A URL with AuthType NONE needs both: the URL's own action, and (for URLs made since
        # October 2025) InvokeFunction limited to calls through a function URL.
        f"{WEBHOOK_URL_ID}Access": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"FunctionName": {"Ref": function}, "Action": "lambda:InvokeFunctionUrl", "Principal": "*",
                           "FunctionUrlAuthType": "NONE"},
        },
        f"{WEBHOOK_URL_ID}Invoke": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"FunctionName": {"Ref": function}, "Action": "lambda:InvokeFunction", "Principal": "*",
                           "InvokedViaFunctionUrl": True},
        },
        "WebhookUrl5xxAlarm": _alarm(
            "The webhooks' function URL answered 5xx (the platforms retry, but a burst means an outage)",
            "AWS/Lambda", "Url5xxCount", {"FunctionName": function_name}, statistic="Sum", threshold=5,
            evaluation_periods=2),
        "WebhookUrlThrottlesAlarm": _alarm(
            "Webhook deliveries refused with 429 for 10 minutes: the webhook function's reserved concurrency "
            "(its throttle) is too small for the platforms' traffic", "AWS/Lambda", "Throttles",
            {"FunctionName": function_name}, statistic="Sum", threshold=10, evaluation_periods=2),
    }


def role_policy(stage: str) -> dict:
    """Least privilege: each action on the resources it is needed for, nothing on ``*``."""
    names = Names(stage)
    table = {"Fn::GetAtt": ["LoyaltyTable", "Arn"]}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": _arn("logs", f"log-group:/aws/lambda/{names.function('*')}:*")},
            # Item reads and writes (transactions are authorised per item action); Query on the indexes.
            # No Scan, no table management.
            {"Sid": "Table", "Effect": "Allow",
             "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
             "Resource": [table, {"Fn::Sub": "${LoyaltyTable.Arn}/index/*"}]},
            # The outbox publisher reads the table's stream (its event source mapping polls with the role).
            {"Sid": "TableStream", "Effect": "Allow",
             "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams"],
             "Resource": {"Fn::GetAtt": ["LoyaltyTable", "StreamArn"]}},
            {"Sid": "SendQueue", "Effect": "Allow",
             "Action": ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
                        "sqs:ReceiveMessage", "sqs:DeleteMessage"],
             "Resource": {"Fn::GetAtt": ["SendQueue", "Arn"]}},
            {"Sid": "EventsQueue", "Effect": "Allow",
             "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
             "Resource": {"Fn::GetAtt": ["EventsQueue", "Arn"]}},
            # Any verified sender identity of the account (each shop sends from its own domain), but only
            # through this stage's configuration set.
            {"Sid": "SendMail", "Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"],
             "Resource": [_arn("ses", "identity/*"),
                          _arn("ses", f"configuration-set/{names.configuration_set}")]},
            # Shops' sending domains (services/shops/sender_domains.py): the domain identity with Easy DKIM and
            # its MAIL FROM, read for the verification status, removed with the claim. Identities only.
            {"Sid": "SenderDomains", "Effect": "Allow",
             "Action": ["ses:CreateEmailIdentity", "ses:GetEmailIdentity", "ses:DeleteEmailIdentity",
                        "ses:PutEmailIdentityMailFromAttributes"],
             "Resource": _arn("ses", "identity/*")},
            # X-Ray has no resource-level permissions: these two write-only actions are granted on "*"
            # (AWS's own AWSXRayDaemonWriteAccess does the same); nothing can be read with them.
            {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
             "Resource": "*"},
            # size_sender: the send function's reservation and its queue mapping's MaximumConcurrency,
            # from SES's quota. GetAccount and ListEventSourceMappings have no resource to name.
            {"Sid": "SenderScaling", "Effect": "Allow",
             "Action": ["lambda:PutFunctionConcurrency", "lambda:UpdateEventSourceMapping"],
             "Resource": [_arn("lambda", f"function:{names.function('send_email')}"),
                          _arn("lambda", "event-source-mapping:*")]},
            {"Sid": "SenderQuota", "Effect": "Allow", "Action": ["ses:GetAccount", "lambda:ListEventSourceMappings"],
             "Resource": "*"},
            {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": [{"Ref": "AdminTokenSecret"}, {"Ref": "LinkSigningKeySecret"}]},
        ],
    }


def function_environment(handler: str) -> dict:
    """Variables every function gets from the stack's resources (the rest: .chalice/config.json)."""
    environment = {
        "LOYALTY_TABLE": {"Ref": "LoyaltyTable"},
        "LOYALTY_SEND_QUEUE": {"Fn::GetAtt": ["SendQueue", "QueueName"]},
        "LOYALTY_EVENTS_QUEUE": {"Fn::GetAtt": ["EventsQueue", "QueueName"]},
        "LOYALTY_SES_CONFIGURATION_SET": {"Ref": "MailConfigurationSet"},
        "LOYALTY_ADMIN_TOKEN_SECRET_ARN": {"Ref": "AdminTokenSecret"},
        "LOYALTY_LINK_SIGNING_KEY_SECRET_ARN": {"Ref": "LinkSigningKeySecret"},
    }
    if handler == "api_handler":  # the webhook address the shops are shown
        environment["LOYALTY_WEBHOOK_URL"] = {"Fn::GetAtt": [WEBHOOK_URL_ID, "FunctionUrl"]}
    # The API's own URL would make the API depend on itself; the webhook function makes no links
    # (the send path does), and with the API's URL the API would depend on it through its URL.
    if handler not in ("api_handler", WEBHOOK_URL_FUNCTION):
        environment["LOYALTY_PUBLIC_URL"] = {"Fn::If": [
            "HasPublicUrl", {"Ref": "PublicUrl"},
            {"Fn::Sub": f"https://${{RestAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{API_STAGE}"}]}
    return environment


def _logical_id(handler: str) -> str:
    """Chalice's logical id of a function: ``send_email`` -> ``SendEmail``."""
    return "".join(part[:1].upper() + part[1:] for part in handler.split("_"))
