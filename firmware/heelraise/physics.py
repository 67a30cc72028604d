"""Physical constants, defined once.

>>> G_MPS2
9.80665
"""

#: m/s^2: standard gravity, the "g" an accelerometer reports in and the g of work = m g h
G_MPS2 = 9.80665
