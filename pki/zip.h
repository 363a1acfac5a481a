/*
 * A ZIP archive writer (PKWARE APPNOTE 6.3), just enough for the result
 * archive of a batch job: stored entries only (PKCS#12 files do not
 * compress), CRC-32 of each entry, ZIP64 end records when the archive has
 * 65,535 entries or more or its central directory lies beyond 4 GiB, so
 * that a job of 100,000 certificates still makes one valid archive.  Each
 * entry is written whole from memory, so the writer never seeks.
 *
 * The file is created with mode 0600 (it holds secrets) and must not exist
 * yet; zip_close() writes the central directory, flushes and fsyncs it.
 * On any error the caller removes the file: a half-written archive is
 * useless.
 */
#ifndef ESTUARY_PKI_ZIP_H
#define ESTUARY_PKI_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct zip;

/* Longest entry name, in bytes. */
#define ZIP_NAME_MAX 255

/* Creates path (O_EXCL, mode 0600) for writing; sets *out on success. */
int zip_open(const char *path, struct zip **out);

/*
 * Adds one stored entry.  name is printable ASCII without a leading '/',
 * without "\" and without ".." components, 1..ZIP_NAME_MAX bytes; len
 * below 4 GiB.  mtime is shown as the entry's modification time (UTC).
 * EST_E_INVAL for a bad name or size, EST_E_IO when writing fails.
 */
int zip_add(struct zip *z, const char *name, const void *data, size_t len,
	    time_t mtime);

/* Entries added so far. */
uint64_t zip_count(const struct zip *z);

/*
 * Writes the central directory and the end records, then flushes,
 * fsyncs and closes the file, and frees z (also on failure).
 */
int zip_close(struct zip *z);

/* Closes the file without finishing it and frees z; NULL is a no-op. */
void zip_free(struct zip *z);

/* CRC-32 (ISO-HDLC, as ZIP and zlib use it): start with crc 0. */
uint32_t zip_crc32(uint32_t crc, const void *p, size_t len);

#endif
