from chalicelib.mail.rate_limit import take_slot_in_dynamodb
from chalicelib.store.loyalty.repository import LoyaltyRepository


def test_the_per_second_counter_refuses_past_the_limit(table):
    LoyaltyRepository("any")  # points the store at the test's table
    assert [take_slot_in_dynamodb(5000, 2) for _ in range(3)] == [True, True, False]
    assert take_slot_in_dynamodb(5001, 2) is True
