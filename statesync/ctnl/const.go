package ctnl

// Values from the kernel's uapi headers linux/netfilter/nfnetlink.h,
// nfnetlink_conntrack.h, nf_conntrack_common.h and nf_conntrack_tcp.h. Each
// carries its kernel name so that it can be looked up there.

// nfnetlink message types: the subsystem in the high byte, the message in
// the low byte.
const (
	nfnlSubsysCtnetlink = 1 // NFNL_SUBSYS_CTNETLINK
	nfnetlinkV0         = 0 // NFNETLINK_V0

	ipctnlMsgCtNew    = 0 // IPCTNL_MSG_CT_NEW
	ipctnlMsgCtGet    = 1 // IPCTNL_MSG_CT_GET
	ipctnlMsgCtDelete = 2 // IPCTNL_MSG_CT_DELETE

	// nfgenmsgLen is the size of struct nfgenmsg that starts every payload.
	nfgenmsgLen = 4
)

// Netlink header values (linux/netlink.h).
const (
	nlmsgHdrLen = 16 // NLMSG_HDRLEN
	nlmsgNoop   = 1  // NLMSG_NOOP
	nlmsgError  = 2  // NLMSG_ERROR
	nlmsgDone   = 3  // NLMSG_DONE

	nlmFRequest = 0x1   // NLM_F_REQUEST
	nlmFMulti   = 0x2   // NLM_F_MULTI
	nlmFAck     = 0x4   // NLM_F_ACK
	nlmFCapped  = 0x100 // NLM_F_CAPPED (on NLMSG_ERROR)
	nlmFAckTLVs = 0x200 // NLM_F_ACK_TLVS (on NLMSG_ERROR)
	nlmFDump    = 0x300 // NLM_F_DUMP = NLM_F_ROOT|NLM_F_MATCH
	nlmFExcl    = 0x200 // NLM_F_EXCL
	nlmFCreate  = 0x400 // NLM_F_CREATE

	nlaFNested   = 0x8000 // NLA_F_NESTED
	nlaTypeMask  = 0x3fff // ^(NLA_F_NESTED|NLA_F_NET_BYTEORDER)
	nlaHdrLen    = 4
	nlmsgerrAttr = 1 // NLMSGERR_ATTR_MSG
)

// enum ctattr_type: top-level attributes of a conntrack message.
const (
	ctaTupleOrig  = 1  // CTA_TUPLE_ORIG
	ctaTupleReply = 2  // CTA_TUPLE_REPLY
	ctaStatus     = 3  // CTA_STATUS
	ctaProtoinfo  = 4  // CTA_PROTOINFO
	ctaNATSrc     = 6  // CTA_NAT_SRC
	ctaTimeout    = 7  // CTA_TIMEOUT
	ctaMark       = 8  // CTA_MARK
	ctaID         = 12 // CTA_ID
	ctaNATDst     = 13 // CTA_NAT_DST
	ctaZone       = 18 // CTA_ZONE
)

// enum ctattr_tuple, ctattr_ip and ctattr_l4proto: inside a tuple.
const (
	ctaTupleIP    = 1 // CTA_TUPLE_IP
	ctaTupleProto = 2 // CTA_TUPLE_PROTO

	ctaIPv4Src = 1 // CTA_IP_V4_SRC
	ctaIPv4Dst = 2 // CTA_IP_V4_DST
	ctaIPv6Src = 3 // CTA_IP_V6_SRC
	ctaIPv6Dst = 4 // CTA_IP_V6_DST

	ctaProtoNum        = 1 // CTA_PROTO_NUM
	ctaProtoSrcPort    = 2 // CTA_PROTO_SRC_PORT
	ctaProtoDstPort    = 3 // CTA_PROTO_DST_PORT
	ctaProtoICMPID     = 4 // CTA_PROTO_ICMP_ID
	ctaProtoICMPType   = 5 // CTA_PROTO_ICMP_TYPE
	ctaProtoICMPCode   = 6 // CTA_PROTO_ICMP_CODE
	ctaProtoICMPv6ID   = 7 // CTA_PROTO_ICMPV6_ID
	ctaProtoICMPv6Type = 8 // CTA_PROTO_ICMPV6_TYPE
	ctaProtoICMPv6Code = 9 // CTA_PROTO_ICMPV6_CODE
)

// enum ctattr_protoinfo and ctattr_protoinfo_tcp.
const (
	ctaProtoinfoTCP = 1 // CTA_PROTOINFO_TCP

	ctaProtoinfoTCPState        = 1 // CTA_PROTOINFO_TCP_STATE
	ctaProtoinfoTCPWScaleOrig   = 2 // CTA_PROTOINFO_TCP_WSCALE_ORIGINAL
	ctaProtoinfoTCPWScaleReply  = 3 // CTA_PROTOINFO_TCP_WSCALE_REPLY
	ctaProtoinfoTCPFlagsOrig    = 4 // CTA_PROTOINFO_TCP_FLAGS_ORIGINAL
	ctaProtoinfoTCPFlagsReply   = 5 // CTA_PROTOINFO_TCP_FLAGS_REPLY
	tcpFlagsMaskAll             = 0xff
	ctaProtoinfoTCPFlagsAttrLen = 2 // struct nf_ct_tcp_flags {flags, mask}
)

// enum ctattr_nat and ctattr_protonat: a NAT range.
const (
	ctaNATv4MinIP = 1 // CTA_NAT_V4_MINIP
	ctaNATv4MaxIP = 2 // CTA_NAT_V4_MAXIP
	ctaNATProto   = 3 // CTA_NAT_PROTO
	ctaNATv6MinIP = 4 // CTA_NAT_V6_MINIP
	ctaNATv6MaxIP = 5 // CTA_NAT_V6_MAXIP

	ctaProtoNATPortMin = 1 // CTA_PROTONAT_PORT_MIN
	ctaProtoNATPortMax = 2 // CTA_PROTONAT_PORT_MAX
)

// Status bits of a conntrack entry (enum ip_conntrack_status).
const (
	StatusExpected     uint32 = 1 << 0  // IPS_EXPECTED
	StatusSeenReply    uint32 = 1 << 1  // IPS_SEEN_REPLY
	StatusAssured      uint32 = 1 << 2  // IPS_ASSURED
	StatusConfirmed    uint32 = 1 << 3  // IPS_CONFIRMED
	StatusSrcNAT       uint32 = 1 << 4  // IPS_SRC_NAT
	StatusDstNAT       uint32 = 1 << 5  // IPS_DST_NAT
	StatusSeqAdjust    uint32 = 1 << 6  // IPS_SEQ_ADJUST
	StatusSrcNATDone   uint32 = 1 << 7  // IPS_SRC_NAT_DONE
	StatusDstNATDone   uint32 = 1 << 8  // IPS_DST_NAT_DONE
	StatusDying        uint32 = 1 << 9  // IPS_DYING
	StatusFixedTimeout uint32 = 1 << 10 // IPS_FIXED_TIMEOUT
	StatusUntracked    uint32 = 1 << 12 // IPS_UNTRACKED
	StatusHelper       uint32 = 1 << 13 // IPS_HELPER
	StatusOffload      uint32 = 1 << 14 // IPS_OFFLOAD
)

// TCP conntrack states (enum tcp_conntrack).
const (
	TCPStateNone        uint8 = 0 // TCP_CONNTRACK_NONE
	TCPStateSynSent     uint8 = 1 // TCP_CONNTRACK_SYN_SENT
	TCPStateSynRecv     uint8 = 2 // TCP_CONNTRACK_SYN_RECV
	TCPStateEstablished uint8 = 3 // TCP_CONNTRACK_ESTABLISHED
	TCPStateFinWait     uint8 = 4 // TCP_CONNTRACK_FIN_WAIT
	TCPStateCloseWait   uint8 = 5 // TCP_CONNTRACK_CLOSE_WAIT
	TCPStateLastAck     uint8 = 6 // TCP_CONNTRACK_LAST_ACK
	TCPStateTimeWait    uint8 = 7 // TCP_CONNTRACK_TIME_WAIT
	TCPStateClose       uint8 = 8 // TCP_CONNTRACK_CLOSE
	TCPStateSynSent2    uint8 = 9 // TCP_CONNTRACK_SYN_SENT2
)

// Per-direction TCP conntrack flags (IP_CT_TCP_FLAG_*).
const (
	TCPFlagWindowScale uint8 = 0x01 // IP_CT_TCP_FLAG_WINDOW_SCALE
	TCPFlagSACKPerm    uint8 = 0x02 // IP_CT_TCP_FLAG_SACK_PERM
	TCPFlagCloseInit   uint8 = 0x04 // IP_CT_TCP_FLAG_CLOSE_INIT
	// TCPFlagBeLiberal makes the kernel skip the TCP window checks for
	// packets from that direction of this one entry. Rampart sets it per
	// entry on a takeover, never through the global
	// nf_conntrack_tcp_be_liberal sysctl.
	TCPFlagBeLiberal          uint8 = 0x08 // IP_CT_TCP_FLAG_BE_LIBERAL
	TCPFlagDataUnacknowledged uint8 = 0x10 // IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED
	TCPFlagMaxACKSet          uint8 = 0x20 // IP_CT_TCP_FLAG_MAXACK_SET
)

// L4 protocol numbers the codec knows the tuple layout of.
const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoICMPv6  = 58
	protoSCTP    = 132
	protoUDPLite = 136
)

// Address families in struct nfgenmsg.
const (
	afUnspec = 0
	afINET   = 2
	afINET6  = 10
)
