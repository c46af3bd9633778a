def noop():
    return None


def echo(x):
    return x


def sink(x):
    return len(x)
