"""``heelraise demo``: the whole product on one laptop (no Pi, no sensor, no broker installed).

- :mod:`heelraise.demo.workout`: what is played (3 x 10 heel raises, seed, config);
- :mod:`heelraise.demo.broker`: the running MQTT broker, or amqtt in this process;
- :mod:`heelraise.demo.runner`: :class:`~heelraise.demo.runner.Demo` puts broker,
  dashboard and the simulated shoe's service together and takes them apart;
- :mod:`heelraise.demo.summary`: the lines printed when the workout has played out.

The command itself is :mod:`heelraise.commands.demo`; see docs/demo.md.
"""
