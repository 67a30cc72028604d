"""LSM6DSOX and LSM6DS3 register map (the subset heelraise uses); little-endian int16.

Sources: ST LSM6DSOX datasheet / lsm6dsox_reg.h (tagged FIFO) and LSM6DS3
datasheet (pattern FIFO). Both: WHO_AM_I 0x0F, CTRL1_XL 0x10 (ODR_XL[7:4],
FS_XL[3:2]), CTRL2_G 0x11 (ODR_G[7:4], FS_G[3:2]), CTRL3_C 0x12 (BOOT 7,
BDU 6, IF_INC 2 (default 1), SW_RESET 0), FIFO_STATUS1 0x3A (DIFF_FIFO[7:0]).
"""

WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
FIFO_STATUS1 = 0x3A
FIFO_STATUS2 = 0x3B

CTRL3_SW_RESET = 0x01
CTRL3_IF_INC = 0x04
CTRL3_BDU = 0x40
CTRL3_DEFAULT = 0x04

# LSM6DSOX: tagged FIFO, words of 7 bytes (TAG, X_L, X_H, Y_L, Y_H, Z_L, Z_H)
DSOX_FIFO_CTRL3 = 0x09  # BDR_GY[7:4], BDR_XL[3:0]
DSOX_FIFO_CTRL4 = 0x0A  # FIFO_MODE[2:0]
DSOX_FIFO_DATA_OUT_TAG = 0x78  # ..0x7E; a burst wraps from 0x7E back to 0x78
DSOX_STATUS2_DIFF_MASK = 0x03  # DIFF_FIFO[9:8]
DSOX_STATUS2_OVR_LATCHED = 0x08  # cleared when FIFO_STATUS2 is read
DSOX_STATUS2_FULL = 0x20
DSOX_STATUS2_OVR = 0x40
TAG_GYRO = 0x01
TAG_ACCEL = 0x02
DSOX_WORD_BYTES = 7
DSOX_FIFO_WORDS = 512  # 3 kbyte of 6-byte data (uncompressed)

# LSM6DS3: untagged FIFO of 16-bit words in the pattern Gx Gy Gz Ax Ay Az
DS3_FIFO_CTRL3 = 0x08  # DEC_FIFO_GYRO[5:3], DEC_FIFO_XL[2:0] (001 = no decimation)
DS3_FIFO_CTRL5 = 0x0A  # ODR_FIFO[6:3], FIFO_MODE[2:0]
DS3_FIFO_STATUS3 = 0x3C  # FIFO_PATTERN[7:0]: index of the next word to read
DS3_FIFO_STATUS4 = 0x3D  # FIFO_PATTERN[9:8]
DS3_FIFO_DATA_OUT_L = 0x3E  # and _H at 0x3F; a burst wraps from 0x3F back to 0x3E
DS3_STATUS2_DIFF_MASK = 0x0F  # DIFF_FIFO[11:8]
DS3_STATUS2_EMPTY = 0x10
DS3_STATUS2_FULL = 0x20
DS3_STATUS2_OVER_RUN = 0x40
DS3_FIFO_WORDS = 4096  # 8 kbyte

FIFO_MODE_BYPASS = 0x0  # FIFO off and emptied
FIFO_MODE_FIFO = 0x1  # stops when full
FIFO_MODE_CONTINUOUS = 0x6  # newest overwrites oldest

#: WHO_AM_I -> part name
CHIPS = {0x6C: "LSM6DSOX", 0x69: "LSM6DS3"}

#: ODR code (CTRL1_XL/CTRL2_G bits [7:4], also BDR/ODR_FIFO) -> Hz
ODR_HZ = {1: 12.5, 2: 26.0, 3: 52.0, 4: 104.0, 5: 208.0, 6: 416.0, 7: 833.0, 8: 1666.0}

#: FS_XL bits -> full scale in g (note the odd order) and FS_G bits -> deg/s
ACCEL_FS_BITS = {2: 0b00, 16: 0b01, 4: 0b10, 8: 0b11}
GYRO_FS_BITS = {250: 0b00, 500: 0b01, 1000: 0b10, 2000: 0b11}

# sensitivities: 0.061 mg/LSB at +-2 g, 8.75 mdps/LSB at 250 deg/s, doubling with range
ACCEL_MG_PER_LSB = {2: 0.061, 4: 0.122, 8: 0.244, 16: 0.488}
GYRO_MDPS_PER_LSB = {250: 8.75, 500: 17.5, 1000: 35.0, 2000: 70.0}


def accel_lsb_per_g(fs_bits: int) -> float:
    fs = {v: k for k, v in ACCEL_FS_BITS.items()}[fs_bits]
    return 1000.0 / ACCEL_MG_PER_LSB[fs]


def gyro_lsb_per_dps(fs_bits: int) -> float:
    fs = {v: k for k, v in GYRO_FS_BITS.items()}[fs_bits]
    return 1000.0 / GYRO_MDPS_PER_LSB[fs]


def nearest_odr_code(fs_hz: float) -> int:
    return min(ODR_HZ, key=lambda c: abs(ODR_HZ[c] - fs_hz))
