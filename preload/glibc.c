// SPDX-License-Identifier: MIT
/*
 * Which implementation runs (ksync, or glibc for everything: --passthrough), and glibc's own
 * functions, for the objects we hand to glibc.
 *
 * Finding glibc's functions is the bootstrap problem of every interposer. dlsym(RTLD_NEXT, …)
 * may allocate (its error state), and the allocator may take a pthread mutex — ours, which may
 * be the very call being resolved. So we read libc.so.6's dynamic symbol table ourselves: the
 * loader's list of objects (dl_iterate_phdr, which takes only the loader's own lock), the GNU
 * hash table, and the version table, to take each function's default version (or, for the old
 * condition ABI, GLIBC_2.2.5). No allocation, no lock of ours, no pthread call.
 */
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

_Atomic int ksp__mode;

int ksp__mode_slow(void)
{
	const char *v = getenv("KSYNC_PRELOAD");
	int mode = v && !strcmp(v, "passthrough") ? KSP_PASSTHROUGH : KSP_KSYNC;

	atomic_store_explicit(&ksp__mode, mode, memory_order_relaxed);
	return mode;
}

/* ksync-run --passthrough tells the program apart by this; tests use it too. */
KSP_EXPORT int ksync_preload_mode(void)
{
	return ksp_passthrough() ? KSP_PASSTHROUGH : KSP_KSYNC;
}

struct ksp_elf {
	ElfW(Addr) base;
	const ElfW(Sym) *symtab;
	const char *strtab;
	const uint32_t *gnu_hash;
	const ElfW(Half) *versym;
	const ElfW(Verdef) *verdef;
};

static bool ksp_is_libc(const char *name)
{
	size_t n = strlen(name);

	return n >= 9 && !strcmp(name + n - 9, "libc.so.6") && (n == 9 || name[n - 10] == '/');
}

static int ksp_find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct ksp_elf *elf = arg;
	const ElfW(Dyn) *dyn = NULL;

	(void)size;
	if (!info->dlpi_name || !ksp_is_libc(info->dlpi_name))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return 0;
	elf->base = info->dlpi_addr;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		/* the loader relocates these in place on most targets, not on all */
		ElfW(Addr) p = dyn->d_un.d_ptr < elf->base ? dyn->d_un.d_ptr + elf->base :
							     dyn->d_un.d_ptr;

		switch (dyn->d_tag) {
		case DT_SYMTAB:
			elf->symtab = (const ElfW(Sym) *)p;
			break;
		case DT_STRTAB:
			elf->strtab = (const char *)p;
			break;
		case DT_GNU_HASH:
			elf->gnu_hash = (const uint32_t *)p;
			break;
		case DT_VERSYM:
			elf->versym = (const ElfW(Half) *)p;
			break;
		case DT_VERDEF:
			elf->verdef = (const ElfW(Verdef) *)p;
			break;
		}
	}
	return 1;
}

/* The name of version index `ndx`. */
static const char *ksp_version_name(const struct ksp_elf *elf, unsigned ndx)
{
	const ElfW(Verdef) *vd = elf->verdef;

	while (vd) {
		if (vd->vd_ndx == ndx) {
			const ElfW(Verdaux) *aux = (const void *)((const char *)vd + vd->vd_aux);

			return elf->strtab + aux->vda_name;
		}
		if (!vd->vd_next)
			break;
		vd = (const void *)((const char *)vd + vd->vd_next);
	}
	return "";
}

static bool ksp_version_matches(const struct ksp_elf *elf, uint32_t sym, const char *version)
{
	ElfW(Half) v;

	if (!elf->versym)
		return true;
	v = elf->versym[sym];
	if (!version)
		return !(v & 0x8000);	/* the default version: not hidden */
	return !strcmp(ksp_version_name(elf, v & 0x7fff), version);
}

/* The GNU hash table: buckets, then a chain of hashes with bit 0 marking each chain's end. */
static void *ksp_lookup(const struct ksp_elf *elf, const char *name, const char *version)
{
	const uint32_t *h = elf->gnu_hash;
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
	const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(h + 4) + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t hash = 5381, i;

	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		hash = hash * 33 + *s;
	i = buckets[hash % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t h2 = chain[i - symoffset];
		const ElfW(Sym) *sym = &elf->symtab[i];

		if ((hash | 1) == (h2 | 1) && sym->st_value && sym->st_shndx != SHN_UNDEF &&
		    !strcmp(elf->strtab + sym->st_name, name) &&
		    ksp_version_matches(elf, i, version)) {
			void *addr = (void *)(elf->base + sym->st_value);

			if (ELF64_ST_TYPE(sym->st_info) == STT_GNU_IFUNC)
				addr = ((void *(*)(void))addr)();
			return addr;
		}
		if (h2 & 1)
			return NULL;
	}
}

static _Noreturn void ksp_die(const char *what, const char *name)
{
	static const char pre[] = "libksync-preload: cannot find glibc's ";

	if (write(2, pre, sizeof(pre) - 1) < 0 || write(2, what, strlen(what)) < 0 ||
	    write(2, name, strlen(name)) < 0 || write(2, "\n", 1) < 0)
		abort();
	abort();
}

static struct ksp_glibc ksp_glibc_funcs;
static _Atomic int ksp_glibc_state;	/* 0: not looked up, 1: being looked up, 2: ready */

static void ksp_glibc_fill(void)
{
	struct ksp_elf elf = { 0 };

	if (!dl_iterate_phdr(ksp_find_libc, &elf) || !elf.symtab || !elf.strtab || !elf.gnu_hash)
		ksp_die("", "libc.so.6");
#define KSP_GLIBC_FIND(name, ret, args)						\
	ksp_glibc_funcs.name = (ret (*) args)ksp_lookup(&elf, #name, NULL);	\
	if (!ksp_glibc_funcs.name)						\
		ksp_die("", #name);
	KSP_GLIBC_FUNCS(KSP_GLIBC_FIND)
#undef KSP_GLIBC_FIND
#define KSP_GLIBC_FIND_OLD(name, ret, args)					\
	ksp_glibc_funcs.old.name = (ret (*) args)ksp_lookup(&elf, #name, "GLIBC_2.2.5");	\
	if (!ksp_glibc_funcs.old.name)						\
		ksp_die("GLIBC_2.2.5 ", #name);
	KSP_GLIBC_OLD_COND_FUNCS(KSP_GLIBC_FIND_OLD)
#undef KSP_GLIBC_FIND_OLD
}

const struct ksp_glibc *ksp_glibc(void)
{
	int state = atomic_load_explicit(&ksp_glibc_state, memory_order_acquire);
	int idle = 0;

	if (ks_likely(state == 2))
		return &ksp_glibc_funcs;
	/* acquire on failure: seeing 2 must show the table (pairs with the release below) */
	if (state == 0 && atomic_compare_exchange_strong_explicit(&ksp_glibc_state, &idle, 1,
								  memory_order_acquire,
								  memory_order_acquire)) {
		ksp_glibc_fill();
		/* release: publishes the table */
		atomic_store_explicit(&ksp_glibc_state, 2, memory_order_release);
		return &ksp_glibc_funcs;
	}
	/* another thread is reading the table: a few microseconds, and no lock to wait on */
	while (atomic_load_explicit(&ksp_glibc_state, memory_order_acquire) != 2)
		sched_yield();
	return &ksp_glibc_funcs;
}

/* Look glibc up before main(), while the process is still single-threaded. */
__attribute__((constructor)) static void ksp_init(void)
{
	ksp__mode_slow();
	ksp_glibc();
}
