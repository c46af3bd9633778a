"""Pick what this agent is for, from the config the controller sent at bootstrap."""


def run(pin, pout, config):
    mode = config.get("mode")
    if mode == "session" and config.get("detach"):
        from pythond_agent import detach  # on another host: outlive the transport

        return detach.main(pin, pout, config)
    if mode == "session":
        from pythond_agent import session

        return session.main(pin, pout, config)
    if mode == "tools":
        from pythond_agent import tooldispatch

        return tooldispatch.main(pin, pout, config)
    import os

    os.write(pout, b"pythond agent: unknown mode %r\n" % (mode,))
    return 2
