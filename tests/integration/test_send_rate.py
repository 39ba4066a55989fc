from chalicelib.mail.rate_limit import take_slots_in_dynamodb


def test_the_per_second_counter_refuses_past_the_limit(deps):  # deps: the store on the test's table
    assert [take_slots_in_dynamodb(5000, 1, 2) for _ in range(3)] == [1, 1, 0]
    assert take_slots_in_dynamodb(5001, 1, 2) == 1
