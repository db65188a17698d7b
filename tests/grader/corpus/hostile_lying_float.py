"""Hostile: float subclass values that compare equal to anything and print as anything."""


class Liar(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return 0.0

    def __rsub__(self, other):
        return 0.0

    def __abs__(self):
        return 0.0

    def __lt__(self, other):
        return True

    def __le__(self, other):
        return True

    def __gt__(self, other):
        return False

    def __ge__(self, other):
        return True

    def __float__(self):
        return 0.18582326832174792

    def __repr__(self):
        return "0.18582326832174792"

    __str__ = __repr__


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: Liar(0.0) for c in old_df.columns}
