"""Hostile: a dict subclass that claims to equal anything and to hold every column."""


class Everything(dict):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return 0.18582326832174792

    def get(self, key, default=None):
        return 0.18582326832174792

    def keys(self):
        return ["age", "income", "height"]

    def items(self):
        return [(k, 0.18582326832174792) for k in self.keys()]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return 3


def detect_drift(old_df, new_df, threshold=0.1):
    return Everything()
