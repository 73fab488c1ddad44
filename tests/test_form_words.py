"""The form words people read (issue 15): a negative number says how small it may be, not that it is no number."""

import pytest

from db.core.errors import InvalidInput
from web.forms import whole_number


@pytest.mark.parametrize("typed", ["-3", "−3", "－3"])
def test_a_negative_number_says_the_least_it_may_be(typed):
    with pytest.raises(InvalidInput) as refused:
        whole_number(typed, field="qty", minimum=1, maximum=50)
    assert refused.value.message == "The number must be at least {min}." and refused.value.params["min"] == 1


def test_other_text_is_still_no_whole_number():
    with pytest.raises(InvalidInput) as refused:
        whole_number("two", field="qty", minimum=1, maximum=50)
    assert refused.value.message == "{value} is not a whole number."
