// Package driver runs Rampart's CARP machines (package carp) against the
// kernel: advert sockets, timers, VIPs, virtual MACs, announcements, link
// events, health checks and notifications. The protocol decisions are the
// pure core's; this package carries out its actions and feeds it events,
// as docs/protocol.md's driver contract asks.
//
// # One thread for adverts
//
// A run loop owns the machines, the advert sockets, the rtnetlink link
// socket and every timer, on one OS thread that runs SCHED_FIFO where
// permitted, with the process's memory locked. It sleeps in ppoll until a
// packet, a link event, a request from another goroutine (an eventfd) or
// the earliest deadline wakes it, so an advert is timed and sent without
// waiting for any other goroutine to be scheduled: a box whose cores are
// saturated still advertises on time at a 20 ms advbase. The rest of the
// process runs at real-time priority 1 (RuntimePriority says why: the Go
// runtime's own threads must not wait behind a CPU hog), and commands the
// driver runs are started at ordinary priority. Logging, hooks and notify
// commands run on an ordinary goroutine fed by a queue the loop never
// blocks on.
//
// # Paths
//
// Adverts go unicast to each peer over the heartbeat link and multicast
// (224.0.0.18 / ff02::12) on each second path, from raw IP protocol 112
// sockets bound to their device with SO_BINDTODEVICE, TTL / hop limit
// 255, and multicast loopback off; the TTL of each received packet comes
// from IP_RECVTTL / IPV6_RECVHOPLIMIT and the receiver requires 255.
// An advert that fails authentication holds a backup down only when it
// comes from a configured peer over the heartbeat link.
//
// # Virtual MAC
//
// Each group answers with 00:00:5e:00:01:vhid, as CARP does. Clients' ARP
// and neighbour entries therefore stay valid across a failover, even on
// hosts that ignore gratuitous ARP; only the switch has to learn the new
// port, from the first announcement. The MAC is held by a macvlan per
// parent device (mode private, named by MacvlanName) that carries the
// group's VIPs on the master. The macvlans stay up on every node; an
// nftables table of the driver's own (rampart_vmac, see gate.go) makes a
// virtual MAC live on the master only: frames to it are taken in on the
// master and dropped on the backup, and the backup's macvlan cannot send.
// The same table rewrites frames to a live virtual MAC to the parent's own
// MAC on ingress, so that packets arrive on the LAN or WAN device, as the
// firewall's interface rules expect, and not on the macvlan. The parents
// get arp_ignore 1 and arp_announce 2 so that they neither answer for the
// VIPs with their own MAC nor teach it to neighbours. A takeover is then
// one nftables transaction and a few address changes, with no device
// going up or down. Plain-MAC mode (ha.virtual_mac: false) puts the VIPs
// on the parents and relies on the announcements alone.
//
// # Announcements
//
// On takeover the loop sends gratuitous ARP (RFC 5227 announcements) for
// the IPv4 VIPs and unsolicited neighbour advertisements with the override
// and router flags for the IPv6 ones, in rounds spread out by
// DefaultAnnounceSchedule (0, 50 ms, 250 ms, 1 s, 5 s), so that one burst
// of loss cannot eat them all.
//
// # Heartbeat carrier and link tracking
//
// Link state comes from rtnetlink events (RTNLGRP_LINK) read by the loop
// itself. Losing carrier on the heartbeat link makes a backup take over
// after ha.carrier_loss_window unless an advert arrives on the second
// path first, and raises a heartbeat_down alarm; tracked roles demote.
//
// # Handover
//
// A master entering maintenance bows out but keeps its VIPs until the new
// master's first advert has arrived and one more advbase has passed, then
// logs "carp: handover complete": a planned switchover loses nothing.
package driver
