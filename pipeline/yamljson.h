/*
 * yamljson.h - YAML (libyaml) read into a json-c tree, for the YAML inputs
 * that are data rather than configuration: kubeconfig files, and later
 * skills and manifests. kopilot.yaml has its own reader (config.c), which
 * knows its keys.
 *
 * Mappings become objects (a repeated key: the last value, as kubectl's
 * reader keeps it), sequences arrays, aliases are followed. Plain scalars
 * are typed the way Kubernetes' YAML reader types them: null, ~ and an
 * empty value are null; true/false (any case) booleans; a decimal integer
 * that fits int64 an integer; a float a double that keeps its text;
 * anything else, and every quoted or block scalar, a string. Mapping keys
 * are always strings.
 *
 * Errors name the file, line and column (libyaml's marks, from 1).
 */
#ifndef KP_YAMLJSON_H
#define KP_YAMLJSON_H

#include "pipeline/kp.h"

/* The first document of text (n bytes) as a tree; an empty text is
 * {"null"}: *out NULL and KP_OK. name is for messages. At most 1,000,000
 * nodes (aliases counted each time they are followed) and 256 levels. */
kp_status kp_yaml_parse(const char *name, const char *text, size_t n, json_object **out, kp_error *err);
/* The same from a file. */
kp_status kp_yaml_read_file(const char *path, json_object **out, kp_error *err);

#endif
