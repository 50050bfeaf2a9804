/*
 * anon.h - names the model never sees (llm.anonymize): every text that
 * goes to the provider has the cluster's names replaced by stable aliases
 * ("anon-ns-3" for a namespace, "anon-7" for anything else), and what comes
 * back (the answer, the arguments of tool calls) has them put back, so a
 * tool runs on the real object and the person reads real names.
 *
 * The names are those of the run: its findings' namespaces, objects and
 * containers, and the snapshot's namespaces, workloads, Services, PVCs,
 * PVs and nodes (lists larger than 256 MB are not read for it). A name is
 * replaced where it stands alone or begins a longer name ("cart-api" in
 * "cart-api-7d9f4-x2", a pod of it), longest first; names of fewer than 3
 * characters are left alone (they are words more often than names). A name
 * the run does not hold (a pod listed live, an annotation) passes as it is:
 * this hides the names kopilot knows, not every string of the cluster.
 */
#ifndef KP_ANON_H
#define KP_ANON_H

#include "pipeline/kp.h"

typedef struct kp_anon kp_anon;

/* The names of run_dir (findings.json and snapshot/objects); NULL only on
 * allocation failure. */
kp_anon *kp_anon_from_run(const char *run_dir);
kp_anon *kp_anon_new(void);
/* Adds one name (a namespace when ns). */
void kp_anon_add(kp_anon *a, const char *name, bool ns);
void kp_anon_free(kp_anon *a);
size_t kp_anon_count(const kp_anon *a);

/* A heap copy of text with the names replaced (hide) or put back (reveal). */
char *kp_anon_hide(const kp_anon *a, const char *text);
char *kp_anon_reveal(const kp_anon *a, const char *text);

#endif
