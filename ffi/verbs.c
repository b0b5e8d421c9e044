/*
 * Verbs shim: thin wrappers over libibverbs for lib/rdma. Objects come back to TypeScript as u64 handles (the
 * pointers); every function returns >= 0 on success or -errno. ibv_post_send, ibv_post_recv, ibv_poll_cq and
 * ibv_query_port are static inline in verbs.h (they call through the context's ops table), so they are called
 * here in C, never through FFI. The structs TypeScript reads have fixed layouts pinned with _Static_assert.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <infiniband/verbs.h>
#include "common.h"

/* Device attributes as lib/rdma/structs.ts reads them. */
struct hl_device_attr {
	uint64_t node_guid;
	uint64_t sys_image_guid;
	uint64_t max_mr_size;
	uint32_t vendor_id;
	uint32_t vendor_part_id;
	uint32_t hw_ver;
	int32_t max_qp;
	int32_t max_qp_wr;
	int32_t max_sge;
	int32_t max_cq;
	int32_t max_cqe;
	int32_t max_mr;
	int32_t max_pd;
	int32_t max_qp_rd_atom;
	int32_t max_qp_init_rd_atom;
	uint32_t phys_port_cnt;
	char fw_ver[64];
};
_Static_assert(offsetof(struct hl_device_attr, vendor_id) == 24, "hl_device_attr.vendor_id");
_Static_assert(offsetof(struct hl_device_attr, phys_port_cnt) == 72, "hl_device_attr.phys_port_cnt");
_Static_assert(offsetof(struct hl_device_attr, fw_ver) == 76, "hl_device_attr.fw_ver");
_Static_assert(sizeof(struct hl_device_attr) == 144, "hl_device_attr size");

/* Port attributes, all widened to u32. */
struct hl_port_attr {
	uint32_t state, max_mtu, active_mtu, gid_tbl_len, port_cap_flags, max_msg_sz;
	uint32_t lid, sm_lid, link_layer, active_width, active_speed, phys_state;
};
_Static_assert(sizeof(struct hl_port_attr) == 48, "hl_port_attr size");

/* One work completion. */
struct hl_wc {
	uint64_t wr_id;
	uint32_t status, opcode, byte_len, qp_num, vendor_err, wc_flags;
};
_Static_assert(sizeof(struct hl_wc) == 32, "hl_wc size");

#define H(p) ((uint64_t)(uintptr_t)(p))
#define P(T, h) ((T *)(uintptr_t)(h))
/* libibverbs reports failure either as a positive errno value or as -1 with errno set. */
static int verr(int ret) { return ret > 0 ? -ret : ret < 0 ? (errno ? -errno : -EIO) : 0; }

HL_EXPORT int hl_verbs_device_list(char *names, int cap) {
	int n = 0;
	errno = 0;
	struct ibv_device **list = ibv_get_device_list(&n);
	if (!list) return errno ? -errno : -ENOSYS;
	int at = 0;
	for (int i = 0; i < n; i++) {
		const char *name = ibv_get_device_name(list[i]);
		size_t len = strlen(name) + 1;
		if (at + (int)len <= cap) {
			memcpy(names + at, name, len);
			at += (int)len;
		}
	}
	ibv_free_device_list(list);
	return n;
}

HL_EXPORT int hl_verbs_open(const char *name, uint64_t *out) {
	int n = 0;
	errno = 0;
	struct ibv_device **list = ibv_get_device_list(&n);
	if (!list) return errno ? -errno : -ENOSYS;
	struct ibv_context *ctx = NULL;
	int found = 0;
	for (int i = 0; i < n && !found; i++) {
		if (strcmp(ibv_get_device_name(list[i]), name) != 0) continue;
		found = 1;
		ctx = ibv_open_device(list[i]);
	}
	int e = errno;
	ibv_free_device_list(list);
	if (!found) return -ENODEV;
	if (!ctx) return e ? -e : -EIO;
	*out = H(ctx);
	return 0;
}

HL_EXPORT int hl_verbs_close_device(uint64_t ctx) { return verr(ibv_close_device(P(struct ibv_context, ctx))); }

HL_EXPORT int hl_verbs_query_device(uint64_t ctx, struct hl_device_attr *out) {
	struct ibv_device_attr a;
	memset(&a, 0, sizeof a);
	int r = ibv_query_device(P(struct ibv_context, ctx), &a);
	if (r) return verr(r);
	memset(out, 0, sizeof *out);
	out->node_guid = a.node_guid;
	out->sys_image_guid = a.sys_image_guid;
	out->max_mr_size = a.max_mr_size;
	out->vendor_id = a.vendor_id;
	out->vendor_part_id = a.vendor_part_id;
	out->hw_ver = a.hw_ver;
	out->max_qp = a.max_qp;
	out->max_qp_wr = a.max_qp_wr;
	out->max_sge = a.max_sge;
	out->max_cq = a.max_cq;
	out->max_cqe = a.max_cqe;
	out->max_mr = a.max_mr;
	out->max_pd = a.max_pd;
	out->max_qp_rd_atom = a.max_qp_rd_atom;
	out->max_qp_init_rd_atom = a.max_qp_init_rd_atom;
	out->phys_port_cnt = a.phys_port_cnt;
	memcpy(out->fw_ver, a.fw_ver, sizeof out->fw_ver);
	out->fw_ver[sizeof out->fw_ver - 1] = 0;
	return 0;
}

HL_EXPORT int hl_verbs_query_port(uint64_t ctx, uint32_t port, struct hl_port_attr *out) {
	struct ibv_port_attr a;
	memset(&a, 0, sizeof a);
	int r = ibv_query_port(P(struct ibv_context, ctx), (uint8_t)port, &a);
	if (r) return verr(r);
	*out = (struct hl_port_attr){
		.state = a.state, .max_mtu = a.max_mtu, .active_mtu = a.active_mtu, .gid_tbl_len = (uint32_t)a.gid_tbl_len,
		.port_cap_flags = a.port_cap_flags, .max_msg_sz = a.max_msg_sz, .lid = a.lid, .sm_lid = a.sm_lid,
		.link_layer = a.link_layer, .active_width = a.active_width, .active_speed = a.active_speed,
		.phys_state = a.phys_state,
	};
	return 0;
}

HL_EXPORT int hl_verbs_query_gid(uint64_t ctx, uint32_t port, int32_t index, uint8_t *gid16) {
	union ibv_gid g;
	int r = ibv_query_gid(P(struct ibv_context, ctx), (uint8_t)port, index, &g);
	if (r) return verr(r);
	memcpy(gid16, g.raw, 16);
	return 0;
}

HL_EXPORT int hl_verbs_alloc_pd(uint64_t ctx, uint64_t *out) {
	errno = 0;
	struct ibv_pd *pd = ibv_alloc_pd(P(struct ibv_context, ctx));
	if (!pd) return errno ? -errno : -ENOMEM;
	*out = H(pd);
	return 0;
}

HL_EXPORT int hl_verbs_dealloc_pd(uint64_t pd) { return verr(ibv_dealloc_pd(P(struct ibv_pd, pd))); }

/* Memory to register is owned by TypeScript (an ArrayBuffer, whose backing store never moves). */
HL_EXPORT int hl_verbs_reg_mr(uint64_t pd, uint64_t addr, uint64_t len, int32_t access, uint64_t *out, uint32_t *keys) {
	errno = 0;
	struct ibv_mr *mr = ibv_reg_mr(P(struct ibv_pd, pd), P(void, addr), len, access);
	if (!mr) return errno ? -errno : -EINVAL;
	*out = H(mr);
	keys[0] = mr->lkey;
	keys[1] = mr->rkey;
	return 0;
}

HL_EXPORT int hl_verbs_dereg_mr(uint64_t mr) { return verr(ibv_dereg_mr(P(struct ibv_mr, mr))); }

HL_EXPORT int hl_verbs_create_cq(uint64_t ctx, int32_t cqe, uint64_t *out) {
	errno = 0;
	struct ibv_cq *cq = ibv_create_cq(P(struct ibv_context, ctx), cqe, NULL, NULL, 0);
	if (!cq) return errno ? -errno : -ENOMEM;
	*out = H(cq);
	return 0;
}

HL_EXPORT int hl_verbs_destroy_cq(uint64_t cq) { return verr(ibv_destroy_cq(P(struct ibv_cq, cq))); }

HL_EXPORT int hl_verbs_create_rc_qp(uint64_t pd, uint64_t send_cq, uint64_t recv_cq, uint32_t max_send_wr,
				    uint32_t max_recv_wr, uint32_t max_sge, uint32_t max_inline, uint64_t *out,
				    uint32_t *qpn) {
	struct ibv_qp_init_attr a;
	memset(&a, 0, sizeof a);
	a.send_cq = P(struct ibv_cq, send_cq);
	a.recv_cq = P(struct ibv_cq, recv_cq);
	a.qp_type = IBV_QPT_RC;
	a.sq_sig_all = 0;
	a.cap.max_send_wr = max_send_wr;
	a.cap.max_recv_wr = max_recv_wr;
	a.cap.max_send_sge = max_sge;
	a.cap.max_recv_sge = max_sge;
	a.cap.max_inline_data = max_inline;
	errno = 0;
	struct ibv_qp *qp = ibv_create_qp(P(struct ibv_pd, pd), &a);
	if (!qp) return errno ? -errno : -ENOMEM;
	*out = H(qp);
	*qpn = qp->qp_num;
	return 0;
}

HL_EXPORT int hl_verbs_destroy_qp(uint64_t qp) { return verr(ibv_destroy_qp(P(struct ibv_qp, qp))); }

HL_EXPORT int hl_verbs_qp_init(uint64_t qp, uint32_t port, int32_t access) {
	struct ibv_qp_attr a;
	memset(&a, 0, sizeof a);
	a.qp_state = IBV_QPS_INIT;
	a.pkey_index = 0;
	a.port_num = (uint8_t)port;
	a.qp_access_flags = access;
	return verr(ibv_modify_qp(P(struct ibv_qp, qp), &a,
				  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS));
}

HL_EXPORT int hl_verbs_qp_rtr(uint64_t qp, uint32_t port, uint32_t remote_qpn, uint32_t remote_psn, uint32_t remote_lid,
			      const uint8_t *gid16, int32_t sgid_index, uint32_t mtu, uint32_t use_gid) {
	struct ibv_qp_attr a;
	memset(&a, 0, sizeof a);
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = (enum ibv_mtu)mtu;
	a.dest_qp_num = remote_qpn;
	a.rq_psn = remote_psn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.dlid = (uint16_t)remote_lid;
	a.ah_attr.sl = 0;
	a.ah_attr.src_path_bits = 0;
	a.ah_attr.port_num = (uint8_t)port;
	if (use_gid) {
		a.ah_attr.is_global = 1;
		memcpy(a.ah_attr.grh.dgid.raw, gid16, 16);
		a.ah_attr.grh.sgid_index = (uint8_t)sgid_index;
		a.ah_attr.grh.hop_limit = 1;
	}
	return verr(ibv_modify_qp(P(struct ibv_qp, qp), &a,
				  IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
					  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER));
}

HL_EXPORT int hl_verbs_qp_rts(uint64_t qp, uint32_t psn) {
	struct ibv_qp_attr a;
	memset(&a, 0, sizeof a);
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = psn;
	a.max_rd_atomic = 1;
	return verr(ibv_modify_qp(P(struct ibv_qp, qp), &a,
				  IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
					  IBV_QP_MAX_QP_RD_ATOMIC));
}

/* opcode: 0 SEND, 1 RDMA_WRITE, 2 RDMA_READ (lib/rdma/qp.ts maps its names to these). */
HL_EXPORT int hl_verbs_post_send(uint64_t qp, uint32_t opcode, uint64_t wr_id, uint64_t laddr, uint32_t len,
				 uint32_t lkey, uint64_t raddr, uint32_t rkey, uint32_t signaled) {
	struct ibv_sge sge = { .addr = laddr, .length = len, .lkey = lkey };
	struct ibv_send_wr wr, *bad = NULL;
	memset(&wr, 0, sizeof wr);
	wr.wr_id = wr_id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = signaled ? IBV_SEND_SIGNALED : 0;
	switch (opcode) {
	case 0: wr.opcode = IBV_WR_SEND; break;
	case 1: wr.opcode = IBV_WR_RDMA_WRITE; break;
	case 2: wr.opcode = IBV_WR_RDMA_READ; break;
	default: return -EINVAL;
	}
	if (opcode != 0) {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return verr(ibv_post_send(P(struct ibv_qp, qp), &wr, &bad));
}

HL_EXPORT int hl_verbs_post_recv(uint64_t qp, uint64_t wr_id, uint64_t addr, uint32_t len, uint32_t lkey) {
	struct ibv_sge sge = { .addr = addr, .length = len, .lkey = lkey };
	struct ibv_recv_wr wr, *bad = NULL;
	memset(&wr, 0, sizeof wr);
	wr.wr_id = wr_id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	return verr(ibv_post_recv(P(struct ibv_qp, qp), &wr, &bad));
}

static int poll_into(struct ibv_cq *cq, struct hl_wc *out, int max) {
	struct ibv_wc wc[16];
	int total = 0;
	while (total < max) {
		int want = max - total < 16 ? max - total : 16;
		int n = ibv_poll_cq(cq, want, wc);
		if (n < 0) return total ? total : -EIO;
		for (int i = 0; i < n; i++) {
			out[total + i] = (struct hl_wc){
				.wr_id = wc[i].wr_id, .status = wc[i].status, .opcode = wc[i].opcode,
				.byte_len = wc[i].byte_len, .qp_num = wc[i].qp_num, .vendor_err = wc[i].vendor_err,
				.wc_flags = wc[i].wc_flags,
			};
		}
		total += n;
		if (n < want) break;
	}
	return total;
}

/* Nonblocking poll: returns the completions available now (0..max). */
HL_EXPORT int hl_verbs_poll_cq(uint64_t cq, struct hl_wc *out, int32_t max) {
	return poll_into(P(struct ibv_cq, cq), out, max);
}

/* Blocking wait (call with FFI nonblocking): polls until at least one completion or timeout_ms; -ETIMEDOUT. */
HL_EXPORT int hl_verbs_wait_cq(uint64_t cq, struct hl_wc *out, int32_t max, int32_t timeout_ms) {
	struct timespec start, now, pause = { 0, 2000 };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int n = poll_into(P(struct ibv_cq, cq), out, max);
		if (n != 0) return n;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= timeout_ms) return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}
