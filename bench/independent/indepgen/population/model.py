"""The population as one record of per-person arrays (index = person; residents of the
register first, then visitors)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..public_tables import Admin


@dataclass
class Population:
    n_res: int  # residents: people in the register
    n: int  # residents and visitors
    snapshot: int  # register snapshot (days)
    in_reg: np.ndarray
    hh: np.ndarray  # person -> household
    hh_start: np.ndarray  # household -> its first person
    hh_size: np.ndarray
    sex: np.ndarray  # 0 male, 1 female
    birth: np.ndarray  # true date of birth (days)
    reg_prec: np.ndarray  # register: 0 exact, 1 year only, 2 placeholder 01/01
    # names: indexes into words / words_old (-1 = none)
    fam: np.ndarray
    mid1: np.ndarray
    mid2: np.ndarray
    given: np.ndarray
    old_tone: np.ndarray
    pid: np.ndarray  # 12-digit CCCD
    cmnd: np.ndarray  # 9-digit or -1
    shared_cmnd: np.ndarray
    phone_own: np.ndarray  # national number without leading 0, 0 = none
    phone_hh: np.ndarray
    reg_phone: np.ndarray
    death: np.ndarray
    twin: np.ndarray
    mover: np.ndarray
    # addresses: register (current) and alternative (old/new or temporary)
    ward: np.ndarray
    atype: np.ndarray
    street: np.ndarray
    n1: np.ndarray
    n2: np.ndarray
    alt_ward: np.ndarray  # >= 0 ward in province; < 0: -(1 + index into other-province list)
    alt_atype: np.ndarray
    alt_street: np.ndarray
    alt_n1: np.ndarray
    alt_n2: np.ndarray
    bhxh_no: np.ndarray
    update_ts: np.ndarray  # seconds since epoch of ngay_cap_nhat
    words: np.ndarray
    words_old: np.ndarray
    tables: dict
    admin: Admin
    other_wards: list  # (ward name, district name, province name)
