// The token service's user table, and what the demo's users know.
//
// The table holds scrypt hashes (N=2^14, r=8, p=1, 16-byte salt, 32-byte hash), never
// passwords, and each user's TOTP secret (RFC 6238; a real service keeps these encrypted).
// The hashes were made with crypto.scryptSync from the passwords in DEMO_USERS below.

export interface UserRecord {
  /** `scrypt$N$r$p$SALT$HASH`, salt and hash in base64url. */
  readonly passwordHash: string;
  readonly roles: readonly string[];
  /** The shared secret of the user's authenticator, base64url. */
  readonly totpSecret: string;
}

export const USER_TABLE: Readonly<Record<string, UserRecord>> = {
  alice: {
    passwordHash: 'scrypt$16384$8$1$8gCTOdoYlL6i7kFCKkPKog$TAfJI2MK-cTrAzuYVGszDnxIF-YtuWSDrJ6cb3ABRBw',
    roles: ['customer'],
    totpSecret: '4xguwQ13BZSqY1Y9T2eb-IbC_zk',
  },
  bob: {
    passwordHash: 'scrypt$16384$8$1$oFB-nx8SXDAkiRLs3kComQ$oEphYIrGzPuBsWFGPib0GyVw_Eq9UQmOF1YMielglzg',
    roles: ['customer'],
    totpSecret: 'cSlbVNCb0r2pLqG0QuCdmmRVC9k',
  },
  carol: {
    passwordHash: 'scrypt$16384$8$1$CJ3X7RGoutNMyRF1OluChQ$0AvO451gZjzaUi5pCd-5ZJkpbjiTWlpSEh9ryk1GeG0',
    roles: ['support'],
    totpSecret: 'nyOkG0r9JkHdIaihscBYQ46CQvk',
  },
};

/** What each demo user knows: a password and (on a phone) the authenticator's secret. */
export const DEMO_USERS: Readonly<Record<string, { readonly password: string; readonly totpSecret: string }>> = {
  alice: { password: 'wonderland-42', totpSecret: USER_TABLE['alice']!.totpSecret },
  bob: { password: 'can-we-fix-it', totpSecret: USER_TABLE['bob']!.totpSecret },
  carol: { password: 'tea-at-four', totpSecret: USER_TABLE['carol']!.totpSecret },
};
