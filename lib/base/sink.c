// SPDX-License-Identifier: GPL-2.0-only
#include "base/sink.h"
#include "base/util.h"
#include "base/encode.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

int sink_write(struct sink *s, const void *buf, size_t len)
{
	int ret;

	if (!len)
		return 0;
	ret = s->write(s, buf, len);
	if (!ret)
		s->bytes += len;
	return ret;
}

void *sink_borrow(struct sink *s, size_t *len)
{
	return s->borrow ? s->borrow(s, len) : NULL;
}

int sink_finish(struct sink *s)
{
	return s->finish ? s->finish(s) : 0;
}

void sink_destroy(struct sink *s)
{
	if (s)
		s->destroy(s);
}

/* ---- fd ---- */

struct fd_sink {
	struct sink base;
	int fd;
};

static int fd_write(struct sink *s, const void *buf, size_t len)
{
	return write_all(((struct fd_sink *)s)->fd, buf, len);
}

static void fd_destroy(struct sink *s)
{
	free(s);
}

struct sink *sink_fd_new(int fd, const char *name)
{
	struct fd_sink *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->base.write = fd_write;
	f->base.destroy = fd_destroy;
	f->base.name = name;
	f->fd = fd;
	return &f->base;
}

/* ---- file ---- */

struct file_sink {
	struct sink base;
	int fd;
	bool complete;
	char *path;
	char *partial;
};

static int file_write(struct sink *s, const void *buf, size_t len)
{
	return write_all(((struct file_sink *)s)->fd, buf, len);
}

static int file_finish(struct sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	if (fsync(f->fd) && errno != EINVAL)
		return -errno;
	if (close(f->fd)) {
		f->fd = -1;
		return -errno;
	}
	f->fd = -1;
	/* link() refuses to replace an existing file, unlike rename(). */
	if (link(f->partial, f->path))
		return -errno;
	unlink(f->partial);
	f->complete = true;
	return 0;
}

static void file_destroy(struct sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	if (f->fd >= 0)
		close(f->fd);
	/*
	 * An incomplete capture keeps its ".partial" name: it may still be the
	 * only copy of something, but nothing will mistake it for a whole image.
	 * One that never received a byte is only clutter.
	 */
	if (!f->complete && f->partial && f->base.bytes == 0 && f->base.write)
		unlink(f->partial);
	free(f->path);
	free(f->partial);
	free(f);
}

struct sink *sink_file_new(const char *path, int *err)
{
	struct file_sink *f = calloc(1, sizeof(*f));

	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->fd = -1;
	f->path = strdup(path);
	if (!f->path || asprintf(&f->partial, "%s.partial", path) < 0) {
		f->partial = NULL;
		*err = -ENOMEM;
		goto fail;
	}
	if (access(path, F_OK) == 0) {
		*err = -EEXIST;
		goto fail;
	}
	f->fd = open(f->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		*err = -errno;
		goto fail;
	}
	f->base.write = file_write;
	f->base.finish = file_finish;
	f->base.destroy = file_destroy;
	f->base.name = "output file";
	return &f->base;
fail:
	file_destroy(&f->base);
	return NULL;
}

/* ---- tee ---- */

struct tee_sink {
	struct sink base;
	size_t count;
	struct sink *outs[];
};

static int tee_write(struct sink *s, const void *buf, size_t len)
{
	struct tee_sink *t = (struct tee_sink *)s;

	for (size_t i = 0; i < t->count; i++) {
		int ret = sink_write(t->outs[i], buf, len);

		if (ret)
			return ret;
	}
	return 0;
}

/* The first sink may lend its memory; the others read the same bytes. */
static void *tee_borrow(struct sink *s, size_t *len)
{
	return sink_borrow(((struct tee_sink *)s)->outs[0], len);
}

static int tee_finish(struct sink *s)
{
	struct tee_sink *t = (struct tee_sink *)s;

	for (size_t i = 0; i < t->count; i++) {
		int ret = sink_finish(t->outs[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static void tee_destroy(struct sink *s)
{
	struct tee_sink *t = (struct tee_sink *)s;

	for (size_t i = 0; i < t->count; i++)
		sink_destroy(t->outs[i]);
	free(t);
}

struct sink *sink_tee_new(struct sink **outs, size_t count)
{
	struct tee_sink *t = calloc(1, sizeof(*t) + count * sizeof(outs[0]));

	if (!t)
		return NULL;
	t->base.write = tee_write;
	t->base.borrow = count ? tee_borrow : NULL;
	t->base.finish = tee_finish;
	t->base.destroy = tee_destroy;
	t->base.name = "tee";
	t->count = count;
	memcpy(t->outs, outs, count * sizeof(outs[0]));
	return &t->base;
}

/* ---- sha256 ---- */

struct sha256_sink {
	struct sink base;
	EVP_MD_CTX *md;
	char hex[SHA256_HEX_BYTES];
};

static int sha256_write(struct sink *s, const void *buf, size_t len)
{
	return EVP_DigestUpdate(((struct sha256_sink *)s)->md, buf, len) == 1 ? 0 : -EIO;
}

static int sha256_finish(struct sink *s)
{
	struct sha256_sink *h = (struct sha256_sink *)s;
	unsigned char digest[SHA256_DIGEST_BYTES];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->md, digest, &n) != 1 || n != sizeof(digest))
		return -EIO;
	hex_encode(digest, sizeof(digest), h->hex);
	return 0;
}

static void sha256_destroy(struct sink *s)
{
	EVP_MD_CTX_free(((struct sha256_sink *)s)->md);
	free(s);
}

struct sink *sink_sha256_new(void)
{
	struct sha256_sink *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
		sha256_destroy(&h->base);
		return NULL;
	}
	h->base.write = sha256_write;
	h->base.finish = sha256_finish;
	h->base.destroy = sha256_destroy;
	h->base.name = "sha256";
	return &h->base;
}

const char *sink_sha256_hex(const struct sink *s)
{
	return ((const struct sha256_sink *)s)->hex;
}

/* ---- zstd ---- */

struct zstd_sink {
	struct sink base;
	ZSTD_CCtx *cctx;
	struct sink *downstream;
	void *out;
	size_t out_size;
};

static int zstd_drain(struct zstd_sink *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
	for (;;) {
		ZSTD_outBuffer out = { z->out, z->out_size, 0 };
		size_t left = ZSTD_compressStream2(z->cctx, &out, in, mode);
		int ret;

		if (ZSTD_isError(left))
			return -EIO;
		ret = sink_write(z->downstream, z->out, out.pos);
		if (ret)
			return ret;
		/* Continue mode is done once input is consumed; end/flush once zstd says 0. */
		if (mode == ZSTD_e_continue ? in->pos == in->size : left == 0)
			return 0;
	}
}

static int zstd_write(struct sink *s, const void *buf, size_t len)
{
	ZSTD_inBuffer in = { buf, len, 0 };

	return zstd_drain((struct zstd_sink *)s, &in, ZSTD_e_continue);
}

static int zstd_finish(struct sink *s)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	int ret = zstd_drain(z, &in, ZSTD_e_end);

	return ret ? ret : sink_finish(z->downstream);
}

static void zstd_destroy(struct sink *s)
{
	struct zstd_sink *z = (struct zstd_sink *)s;

	ZSTD_freeCCtx(z->cctx);
	sink_destroy(z->downstream);
	free(z->out);
	free(z);
}

struct sink *sink_zstd_new(struct sink *downstream, int level, int threads, int *err)
{
	struct zstd_sink *z = calloc(1, sizeof(*z));

	if (!z) {
		*err = -ENOMEM;
		sink_destroy(downstream);
		return NULL;
	}
	z->downstream = downstream;
	z->cctx = ZSTD_createCCtx();
	z->out_size = ZSTD_CStreamOutSize();
	z->out = malloc(z->out_size);
	if (!z->cctx || !z->out) {
		*err = -ENOMEM;
		goto fail;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1))) {
		*err = -EINVAL;
		goto fail;
	}
	if (threads > 0 &&
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, threads))) {
		/* libzstd built without threads: say so instead of silently going slow. */
		*err = -ENOTSUP;
		goto fail;
	}
	if (threads > 0 &&
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_jobSize, SINK_ZSTD_JOB_SIZE))) {
		*err = -EINVAL;
		goto fail;
	}
	z->base.write = zstd_write;
	z->base.finish = zstd_finish;
	z->base.destroy = zstd_destroy;
	z->base.name = "zstd";
	return &z->base;
fail:
	zstd_destroy(&z->base);
	return NULL;
}

/* ---- async ---- */

struct async_buffer {
	unsigned char *data;
	size_t len;
};

struct async_sink {
	struct sink base;
	struct sink *downstream;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct async_buffer *ring;
	unsigned int depth;
	size_t buffer_size;
	unsigned int head;     /* next buffer the worker consumes */
	unsigned int queued;   /* buffers filled and waiting */
	unsigned int filling;  /* buffer the producer writes into */
	size_t fill;
	bool closing;
	bool abandoned;        /* destroyed unfinished: queued buffers are dropped */
	int worker_error;
};

static void *async_worker(void *arg)
{
	struct async_sink *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct async_buffer *b;
		bool drop;
		int ret;

		while (!a->queued && !a->closing)
			pthread_cond_wait(&a->changed, &a->lock);
		if (!a->queued)
			break;
		b = &a->ring[a->head];
		drop = a->worker_error || a->abandoned;
		pthread_mutex_unlock(&a->lock);
		ret = drop ? 0 : sink_write(a->downstream, b->data, b->len);
		pthread_mutex_lock(&a->lock);
		if (ret && !a->worker_error)
			a->worker_error = ret;
		a->head = (a->head + 1) % a->depth;
		a->queued--;
		pthread_cond_broadcast(&a->changed);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Hand the filling buffer to the worker; wait for a free one. */
static int async_submit(struct async_sink *a)
{
	int err;

	pthread_mutex_lock(&a->lock);
	a->ring[a->filling].len = a->fill;
	a->queued++;
	pthread_cond_broadcast(&a->changed);
	while (a->queued == a->depth)
		pthread_cond_wait(&a->changed, &a->lock);
	a->filling = (a->head + a->queued) % a->depth;
	a->fill = 0;
	err = a->worker_error;
	pthread_mutex_unlock(&a->lock);
	return err;
}

/* The unfilled rest of the buffer being filled: the producer reads into it. */
static void *async_borrow(struct sink *s, size_t *len)
{
	struct async_sink *a = (struct async_sink *)s;

	*len = a->buffer_size - a->fill;
	return a->ring[a->filling].data + a->fill;
}

static int async_write(struct sink *s, const void *buf, size_t len)
{
	struct async_sink *a = (struct async_sink *)s;
	const unsigned char *p = buf;

	if (p == a->ring[a->filling].data + a->fill && len <= a->buffer_size - a->fill) {
		/* Bytes produced in borrowed space are already in place. */
		a->fill += len;
		return a->fill == a->buffer_size ? async_submit(a) : 0;
	}
	while (len) {
		size_t room = a->buffer_size - a->fill;
		size_t take = len < room ? len : room;

		memcpy(a->ring[a->filling].data + a->fill, p, take);
		a->fill += take;
		p += take;
		len -= take;
		if (a->fill == a->buffer_size) {
			int ret = async_submit(a);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static int async_stop(struct async_sink *a)
{
	int ret = 0;

	if (!a->thread_started)
		return 0;
	pthread_mutex_lock(&a->lock);
	a->closing = true;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	a->thread_started = false;
	ret = a->worker_error;
	return ret;
}

static int async_finish(struct sink *s)
{
	struct async_sink *a = (struct async_sink *)s;
	int ret = 0;

	if (a->fill)
		ret = async_submit(a);
	if (!ret)
		ret = async_stop(a);
	if (!ret)
		ret = sink_finish(a->downstream);
	return ret;
}

static void async_destroy(struct sink *s)
{
	struct async_sink *a = (struct async_sink *)s;

	/*
	 * Destroyed before it finished: what is still queued would only delay
	 * the abort behind it (an upload waiting for a free part, say).
	 */
	pthread_mutex_lock(&a->lock);
	a->abandoned = true;
	pthread_mutex_unlock(&a->lock);
	async_stop(a);
	if (a->ring) {
		for (unsigned int i = 0; i < a->depth; i++)
			free(a->ring[i].data);
		free(a->ring);
	}
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->changed);
	sink_destroy(a->downstream);
	free(a);
}

struct sink *sink_async_new(struct sink *downstream, size_t buffer_size, unsigned int depth,
			    int *err)
{
	struct async_sink *a = calloc(1, sizeof(*a));

	if (!a || depth < 2 || !buffer_size) {
		*err = a ? -EINVAL : -ENOMEM;
		free(a);
		sink_destroy(downstream);
		return NULL;
	}
	a->downstream = downstream;
	a->depth = depth;
	a->buffer_size = buffer_size;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->changed, NULL);
	a->base.write = async_write;
	a->base.borrow = async_borrow;
	a->base.finish = async_finish;
	a->base.destroy = async_destroy;
	a->base.name = downstream->name;
	a->ring = calloc(depth, sizeof(*a->ring));
	if (!a->ring) {
		*err = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < depth; i++) {
		a->ring[i].data = malloc(buffer_size);
		if (!a->ring[i].data) {
			*err = -ENOMEM;
			goto fail;
		}
	}
	*err = -pthread_create(&a->thread, NULL, async_worker, a);
	if (*err)
		goto fail;
	a->thread_started = true;
	return &a->base;
fail:
	async_destroy(&a->base);
	return NULL;
}
