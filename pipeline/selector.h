/*
 * selector.h - Kubernetes label selectors as kubectl's -l/--selector takes
 * them (k8s.io/apimachinery/pkg/labels): requirements joined by commas, all
 * of which must hold:
 *
 *   k=v  k==v    the label k is set to v
 *   k!=v         k is not set to v (an object without k matches)
 *   k in (a,b)   k is set to one of a, b
 *   k notin (a,b) k is set to none of them (an object without k matches)
 *   k            k is set, to anything
 *   !k           k is not set
 *   k>N  k<N     k is set to an integer greater / less than N
 *
 * Keys and values are checked as the API server checks labels, so a typo
 * is an error at the flag rather than a selector that silently matches
 * nothing.
 *
 * Ownership: a kp_selector owns its requirements and their strings;
 * kp_selector_release frees them.
 */
#ifndef KP_SELECTOR_H
#define KP_SELECTOR_H

#include "pipeline/model.h"

typedef enum {
	KP_SEL_EQUALS,     /* = and == */
	KP_SEL_NOT_EQUALS, /* != */
	KP_SEL_IN,
	KP_SEL_NOT_IN,
	KP_SEL_EXISTS,
	KP_SEL_NOT_EXISTS, /* !k */
	KP_SEL_GREATER,    /* > */
	KP_SEL_LESS,       /* < */
} kp_selector_op;

typedef struct kp_selector_req {
	kp_selector_op op;
	char *key;
	char **values; /* EQUALS, NOT_EQUALS, GREATER, LESS: one; IN, NOT_IN: one or more; else none */
	size_t nvalues;
} kp_selector_req;

typedef struct kp_selector {
	kp_selector_req *reqs;
	size_t n;
} kp_selector;

/* Parses text into sel (which the caller zeroes first). On a syntax error
 * or an invalid key or value: KP_ERR_USAGE, err naming the 1-based
 * character position and what was expected there, and sel left empty. An
 * empty or all-blank text is an error too: it selects nothing useful and is
 * most likely an unset shell variable. */
kp_status kp_selector_parse(const char *text, kp_selector *sel, kp_error *err);
void kp_selector_release(kp_selector *sel);
/* Whether an object with these labels satisfies every requirement. */
bool kp_selector_matches(const kp_selector *sel, const kp_kv *labels, size_t nlabels);
/* The canonical text, kubectl's spelling ("app=web,tier in (a,b),!canary"),
 * into out. */
void kp_selector_format(const kp_selector *sel, kp_buf *out);

#endif
