/*
 * secret.h - secrets at rest: agent and IPMI passwords are stored sealed.
 *
 * DESIGN (DESIGN.md section 7): a 256-bit key lives in <data>/secret.key
 * (mode 0600, made at first start); a secret is sealed with libsodium's
 * crypto_secretbox (XSalsa20-Poly1305, random nonce) and stored as
 * "sb1:" + base64(nonce || ciphertext). A copy of the database without
 * the key file reveals no password; a tampered value fails to open.
 * Thread-safe after secret_init().
 */
#ifndef OVMM_SECRET_H
#define OVMM_SECRET_H

/* Load the key from @path, creating it when absent. 0 or -1 (ERR_IO). */
int secret_init(const char *path);
/* Seal @plain; caller frees. NULL with err_set() before secret_init(). */
char *secret_seal(const char *plain);
/* Open @sealed; caller frees (and should wipe). NULL with ERR_INVALID
 * when it does not open with this key. */
char *secret_open(const char *sealed);

#endif
