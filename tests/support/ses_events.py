"""SES event notifications as SES publishes them to its SNS topic and SNS delivers them to the
events queue: an SQS record whose body is SNS's ``Notification`` envelope around the SES record
(``eventType``, ``mail`` with the message id and the tags the sender set, the event's own part).
Used by the SES event tests and bench/ses_events.py."""
from __future__ import annotations

import json
import uuid

TOPIC = "arn:aws:sns:eu-central-1:123456789012:loyalty-ses-events"


def ses_record(event_type: str, sent: dict, moment: str) -> dict:
    """The SES event record for ``sent`` (SES's event publishing format, docs: "Examples of event
    data that Amazon SES publishes to Amazon SNS")."""
    recipient = sent["recipient"]
    tags = {name: [value] for name, value in sent["tags"].items()}
    tags.update({"ses:configuration-set": [sent["configuration_set"] or "loyalty-mail"],
                 "ses:source-ip": ["192.0.2.10"], "ses:from-domain": ["shop.example"],
                 "ses:caller-identity": ["loyalty-send"]})
    record = {"eventType": event_type, "mail": {
        "timestamp": moment, "source": sent["source"], "sendingAccountId": "123456789012",
        "messageId": sent["message_id"], "destination": [recipient], "headersTruncated": False,
        "headers": [{"name": "From", "value": sent["source"]}, {"name": "To", "value": recipient},
                    {"name": "Subject", "value": "Дякуємо за замовлення"},
                    {"name": "MIME-Version", "value": "1.0"},
                    {"name": "Content-Type", "value": "multipart/alternative; boundary=\"b1\""}],
        "commonHeaders": {"from": [sent["source"]], "to": [recipient], "messageId": sent["message_id"],
                          "subject": "Дякуємо за замовлення"},
        "tags": tags}}
    if event_type == "Delivery":
        record["delivery"] = {"timestamp": moment, "processingTimeMillis": 1034, "recipients": [recipient],
                              "smtpResponse": "250 2.0.0 OK  1733567890 a1si123456qkb.123 - gsmtp",
                              "reportingMTA": "a8-70.smtp-out.amazonses.com"}
    elif event_type == "Open":
        record["open"] = {"ipAddress": "192.0.2.1", "timestamp": moment,
                          "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"}
    elif event_type == "Click":
        record["click"] = {"ipAddress": "192.0.2.1", "timestamp": moment, "link": "https://shop.example/products/1",
                           "linkTags": {"campaign": ["none"]},
                           "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"}
    elif event_type == "Bounce:Permanent":
        record["eventType"] = "Bounce"
        record["bounce"] = {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": moment,
                            "feedbackId": f"0102{uuid.uuid4().hex}-000000", "reportingMTA": "dsn; e226-55.smtp-out.amazonses.com",
                            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}
    elif event_type == "Bounce:Transient":
        record["eventType"] = "Bounce"
        record["bounce"] = {"bounceType": "Transient", "bounceSubType": "MailboxFull", "timestamp": moment,
                            "feedbackId": f"0102{uuid.uuid4().hex}-000000",
                            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "4.2.2",
                                                   "diagnosticCode": "smtp; 452 4.2.2 mailbox full"}]}
    elif event_type == "Complaint":
        record["complaint"] = {"complainedRecipients": [{"emailAddress": recipient}], "timestamp": moment,
                               "feedbackId": f"0102{uuid.uuid4().hex}-000000", "userAgent": "Yahoo!-Mail-Feedback/2.0",
                               "complaintFeedbackType": "abuse", "arrivalDate": moment}
    return record


def sqs_event(records: list[dict]) -> dict:
    """An SQS batch as the events queue hands it to Lambda: each body SNS's envelope of one record."""
    entries = []
    for record in records:
        envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC,
                    "Message": json.dumps(record), "Timestamp": record["mail"]["timestamp"],
                    "SignatureVersion": "1", "Signature": "EXAMPLE" * 20,
                    "SigningCertURL": "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeURL": f"https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1"}
        body = json.dumps(envelope)
        entries.append({"messageId": str(uuid.uuid4()), "receiptHandle": "AQEB" + uuid.uuid4().hex * 4, "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1733567890000",
                                       "SenderId": "AIDAIT2UOQQY3AUEKVGXU",
                                       "ApproximateFirstReceiveTimestamp": "1733567890010"},
                        "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:loyalty-mail-events",
                        "awsRegion": "eu-central-1"})
    return {"Records": entries}
