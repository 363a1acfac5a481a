/*
 * Value checks shared by lib/subject.c (resolution) and lib/subject_x509.c
 * (conversion to and from OpenSSL names).  Internal to those two files.
 */
#ifndef ESTUARY_SUBJECT_INT_H
#define ESTUARY_SUBJECT_INT_H

#include <stddef.h>

#include <openssl/asn1.h>

#include "subject.h"

/* 'A'..'Z', whatever the locale. */
int subj_is_upper(int c);
/* Characters of strict UTF-8 text without control characters; -1 if not. */
long subj_utf8_chars(const char *s);
/* PrintableString characters only. */
int subj_is_printable_str(const char *s);
/* 7-bit ASCII only (IA5String). */
int subj_is_ascii_str(const char *s);
/* The string type an attribute is encoded with. */
enum subj_strtype subj_attr_strtype(const char *oid, enum subj_strtype st);
int subj_valid_dns(const char *s, int wildcard);
/* Parses an IPv4 or IPv6 literal into bin (4 or 16 bytes in *len). */
int subj_valid_ip(const char *s, unsigned char bin[16], size_t *len);
int subj_valid_uri(const char *s);
int subj_valid_email(const char *s);
/* The ASN1_TYPE of an otherName value given in its textual form. */
int subj_othername_value(enum subj_onenc enc, const char *s, ASN1_TYPE **out);

#endif
