from chalicelib.mail.rate_limit import take_slots_in_dynamodb


def test_the_per_second_counter_gives_no_place_past_the_limit(deps):  # deps: the store on the test's table
    assert [take_slots_in_dynamodb({5040: 1}, 2)[5040].granted for _ in range(3)] == [1, 1, 0]
    assert take_slots_in_dynamodb({5040: 1, 5041: 1}, 2) == {5040: (0, 4), 5041: (1, 1)}
