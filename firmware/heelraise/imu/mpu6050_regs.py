"""MPU-6050 / MPU-6500 / MPU-9250 register map (the subset heelraise uses).

From InvenSense RM-MPU-6000A-00 rev 4.2 (MPU-6000/6050 register map) and the
MPU-6500 / MPU-9250 register maps, which keep these addresses and bits. All
sensor words are big-endian two's-complement int16.
"""

SMPLRT_DIV = 0x19  # sample rate = gyro output rate / (1 + SMPLRT_DIV)
CONFIG = 0x1A  # [5:3] EXT_SYNC_SET, [2:0] DLPF_CFG (0 or 7: DLPF off, gyro rate 8 kHz)
GYRO_CONFIG = 0x1B  # [4:3] FS_SEL: 250/500/1000/2000 deg/s
ACCEL_CONFIG = 0x1C  # [4:3] AFS_SEL: 2/4/8/16 g
ACCEL_CONFIG2 = 0x1D  # MPU-6500/9250 only: accel DLPF
FIFO_EN = 0x23  # 7 TEMP, 6 XG, 5 YG, 4 ZG, 3 ACCEL, 2..0 SLV2..0
INT_ENABLE = 0x38  # 4 FIFO_OFLOW_EN, 0 DATA_RDY_EN
INT_STATUS = 0x3A  # 4 FIFO_OFLOW_INT, 0 DATA_RDY_INT; cleared when read
ACCEL_XOUT_H = 0x3B  # ACCEL X,Y,Z (6 bytes), TEMP (2), GYRO X,Y,Z (6): 0x3B..0x48
TEMP_OUT_H = 0x41
GYRO_XOUT_H = 0x43
USER_CTRL = 0x6A  # 6 FIFO_EN, 5 I2C_MST_EN, 4 I2C_IF_DIS, 2 FIFO_RESET, 0 SIG_COND_RESET
PWR_MGMT_1 = 0x6B  # 7 DEVICE_RESET, 6 SLEEP, 5 CYCLE, 3 TEMP_DIS, [2:0] CLKSEL
PWR_MGMT_2 = 0x6C
FIFO_COUNTH = 0x72  # reading COUNTH latches COUNTH and COUNTL together
FIFO_COUNTL = 0x73
FIFO_R_W = 0x74  # reading pops one byte; a burst read stays on this register
WHO_AM_I = 0x75

# bits
PWR_DEVICE_RESET = 0x80
PWR_SLEEP = 0x40
CLKSEL_PLL_XGYRO = 0x01  # recommended clock source: PLL on the X gyro
USER_FIFO_EN = 0x40
USER_FIFO_RESET = 0x04
FIFO_EN_ACCEL_GYRO = 0x78  # XG | YG | ZG | ACCEL: 12 bytes a sample, accel first
INT_FIFO_OFLOW = 0x10
INT_DATA_RDY = 0x01

POWER_ON_PWR_MGMT_1 = 0x40  # asleep, internal 8 MHz oscillator

#: WHO_AM_I value -> (part name, FIFO size in bytes)
CHIPS = {
    0x68: ("MPU-6050", 1024),
    0x70: ("MPU-6500", 512),
    0x71: ("MPU-9250", 512),
}

SAMPLE_BYTES = 12  # accel x,y,z + gyro x,y,z, int16 each

#: full-scale range -> FS bits value (bits [4:3]) and LSB per unit
ACCEL_RANGES_G = {2: 0, 4: 1, 8: 2, 16: 3}
GYRO_RANGES_DPS = {250: 0, 500: 1, 1000: 2, 2000: 3}


def accel_lsb_per_g(fs_bits: int) -> float:
    return 16384.0 / (1 << fs_bits)


def gyro_lsb_per_dps(fs_bits: int) -> float:
    return (131.0, 65.5, 32.8, 16.4)[fs_bits]  # the datasheet's sensitivities


#: DLPF_CFG -> accel/gyro bandwidth in Hz (MPU-6050 table; 0 and 7 switch the DLPF off)
DLPF_BANDWIDTH_HZ = {0: 256, 1: 188, 2: 98, 3: 42, 4: 20, 5: 10, 6: 5, 7: 256}


def gyro_output_rate_hz(dlpf_cfg: int) -> float:
    """Gyro output rate the divider divides: 8 kHz with the DLPF off, 1 kHz with it on."""
    return 8000.0 if dlpf_cfg in (0, 7) else 1000.0


def sample_rate_hz(dlpf_cfg: int, smplrt_div: int) -> float:
    return gyro_output_rate_hz(dlpf_cfg) / (1 + smplrt_div)
