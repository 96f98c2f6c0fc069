/*
 * vmcfg.h - Oracle VM / Xen xm "vm.cfg" files, as shipped in Oracle VM
 * templates: parse into JSON, and write back.
 *
 * DESIGN: vm.cfg is a list of assignments in a Python subset:
 *   name = 'OVM_OL7U9_x86_64_PVHVM'      # comments
 *   memory = 2048
 *   vcpus = 2
 *   disk = ['file:/OVS/Repositories/x/VirtualDisks/a.img,xvda,w',
 *           'file:/OVS/.../b.iso,hdc:cdrom,r']
 *   vif = ['mac=00:21:f6:00:00:01,bridge=xenbr0', ]
 *   builder = 'hvm'
 *   extra = "a \"quoted\" value"
 * Values are single- or double-quoted strings (backslash escapes \\ \'
 * \" \n \t), integers (decimal, optional sign), Python's True, False
 * and None (JSON true, false, null), or lists of those
 * (trailing comma allowed, may span lines). Keys: letters, digits, '_'.
 * A later assignment to the same key replaces the earlier one. Anything
 * else (an expression, a dict, an unterminated string, a key without
 * value) is ERR_INVALID with the line number: "vm.cfg line 3: ...".
 * Limits: 64 KiB of text, 256 keys, 64 list items, 4096 bytes a string.
 *
 * Thread-safety: reentrant.
 */
#ifndef OVMM_UTIL_VMCFG_H
#define OVMM_UTIL_VMCFG_H

#include <stddef.h>

#include "util/json.h"

/* Parse @len bytes of @text into a new JSON object {key: string | int |
 * bool | null | [those, ...]}, keys in file order. NULL with
 * ERR_INVALID. */
json_object *vmcfg_parse(const char *text, size_t len);

/* Write @cfg (as vmcfg_parse returns) as vm.cfg text, keys in order,
 * strings single-quoted with escapes, booleans and null as True, False
 * and None. New string, caller frees. NULL with
 * ERR_INVALID for a member that is not a string, int or list of them. */
char *vmcfg_format(json_object *cfg);

/*
 * One element of a `disk` list, split: "file:/p/a.img,xvda,w" ->
 * {"path": "/p/a.img", "proto": "file", "target": "xvda", "cdrom": false,
 *  "mode": "w"}; "file:/p/b.iso,hdc:cdrom,r" -> cdrom true, target "hdc",
 * mode "r"; ",hdc:cdrom,r" (empty drive) -> path "". NULL with
 * ERR_INVALID.
 */
json_object *vmcfg_disk_parse(const char *spec);

/* One element of a `vif` list, split at ',' into {key: value}:
 * "mac=00:16:3e:00:00:01,bridge=xenbr0" -> {"mac": ..., "bridge": ...}.
 * NULL with ERR_INVALID. */
json_object *vmcfg_vif_parse(const char *spec);

#endif
