package config

// fieldDoc is what the schema says about one key beyond its Go type.
type fieldDoc struct {
	desc       string
	def        any      // default filled in by Parse, if any
	required   bool     // validation always requires the key
	enum       []string // allowed strings for a plain string field
	keyPattern string   // for maps: the pattern of the keys
	constant   any      // the only allowed value
	min, max   int      // integer bounds, when tighter than the Go type's (max > 0)
}

// fieldDocs describes every key, by Go type name and YAML key. The schema
// test fails when a field has no entry, so a new field cannot go
// undocumented.
func fieldDocs() map[string]fieldDoc {
	return map[string]fieldDoc{
		"Config.schema_version": {desc: "Version of this format; must be 1.", required: true, constant: SchemaVersion},
		"Config.hostname":       {desc: "Host name of this node (RFC 1123, at most 64 characters).", required: true},
		"Config.interfaces":     {desc: "Interface roles (lan, wan, sync, ...) mapped to devices. Rules name roles, never devices.", required: true, keyPattern: `^[a-z][a-z0-9_]{0,14}$`},
		"Config.aliases":        {desc: "Named address lists or port lists, compiled to nftables sets.", keyPattern: `^[A-Za-z][A-Za-z0-9_-]{0,63}$`},
		"Config.rules":          {desc: "Filter rules in order; the first that matches decides."},
		"Config.nat":            {desc: "Source NAT (masquerade, SNAT) and port forwards (DNAT)."},
		"Config.management":     {desc: "Where the admin UI may be reached from."},
		"Config.ha":             {desc: "CARP-style redundancy with a peer. Leave out for a single firewall."},
		"Config.statesync":      {desc: "Connection-state replication to the peer."},
		"Config.webui":          {desc: "The admin web console."},

		"Interface.device":    {desc: "Kernel device name (1-15 bytes, no '/', ':' or spaces).", required: true},
		"Interface.addresses": {desc: "Addresses with prefix length, e.g. 192.168.1.1/24; host bits are kept."},
		"Interface.gateway":   {desc: "Default gateway reached through this interface; must lie in one of its subnets."},
		"Interface.comment":   {desc: "Free text."},

		"Alias.addresses": {desc: "Hosts (10.0.0.1) or networks (10.0.0.0/8). An alias holds addresses or ports, not both."},
		"Alias.ports":     {desc: `Ports (443) or ranges ("8000-8080").`},
		"Alias.comment":   {desc: "Free text."},

		"Rule.comment":    {desc: "Free text, shown in the UI and in logs."},
		"Rule.chain":      {desc: "forward: traffic through the firewall; input: traffic to the firewall itself.", def: string(Forward)},
		"Rule.from":       {desc: "Source side of the flow; empty matches anything."},
		"Rule.to":         {desc: "Destination side of the flow; empty matches anything."},
		"Rule.protocol":   {desc: "Transport protocol; leave out for any."},
		"Rule.icmp_types": {desc: "ICMP or ICMPv6 type names as nft spells them (echo-request, ...); needs protocol icmp or icmpv6."},
		"Rule.action":     {desc: "Verdict: accept, drop, or reject (TCP reset or ICMP unreachable).", required: true},
		"Rule.log":        {desc: "Log packets that match."},
		"Rule.disabled":   {desc: "Keep the rule but do not load it."},

		"Endpoint.interface":  {desc: "Interface role the packet arrives on (from) or leaves by (to)."},
		"Endpoint.addresses":  {desc: "Hosts or networks."},
		"Endpoint.alias":      {desc: "Name of an address alias; instead of addresses."},
		"Endpoint.ports":      {desc: "Ports or ranges; needs protocol tcp or udp."},
		"Endpoint.port_alias": {desc: "Name of a port alias; instead of ports."},

		"NAT.masquerade":    {desc: "Rewrite the source of traffic leaving an interface to that interface's address."},
		"NAT.snat":          {desc: "Rewrite the source of traffic leaving an interface to a fixed address (use a VIP in HA)."},
		"NAT.port_forwards": {desc: "Destination NAT; the matching forward accept is implied."},

		"Masquerade.out":     {desc: "Interface role the traffic leaves by.", required: true},
		"Masquerade.sources": {desc: "Source networks to translate; leave out for any."},
		"Masquerade.comment": {desc: "Free text."},

		"SNAT.out":     {desc: "Interface role the traffic leaves by.", required: true},
		"SNAT.sources": {desc: "Source networks to translate; leave out for any."},
		"SNAT.to":      {desc: "Source address to use.", required: true},
		"SNAT.comment": {desc: "Free text."},

		"PortForward.in":       {desc: "Interface role the traffic arrives on.", required: true},
		"PortForward.protocol": {desc: "tcp or udp.", required: true},
		"PortForward.port":     {desc: "Destination port or range on the firewall.", required: true},
		"PortForward.sources":  {desc: "Source networks allowed to use the forward; leave out for any."},
		"PortForward.to":       {desc: "Internal host to forward to.", required: true},
		"PortForward.to_port":  {desc: "First port on the internal host; default: the same as port."},
		"PortForward.log":      {desc: "Log forwarded connections."},
		"PortForward.comment":  {desc: "Free text."},

		"Management.interfaces": {desc: "Interface roles the admin UI answers on; an anti-lockout rule keeps them open."},

		"HA.node_id":             {desc: "Name of this node in the pair (a, b, ...).", required: true},
		"HA.heartbeat":           {desc: "Interface role of the dedicated link to the peer.", required: true},
		"HA.peers":               {desc: "Heartbeat addresses of the other nodes; adverts are sent to them by unicast.", required: true},
		"HA.second_path":         {desc: "Interface roles that also carry multicast adverts, so a dead heartbeat link is not mistaken for a dead peer. Default: [lan] when a lan role exists; [] turns it off."},
		"HA.carrier_loss_window": {desc: "After the heartbeat link loses carrier, how long to wait for an advert on the second path before taking over.", def: DefaultCarrierLossWindow.String()},
		"HA.auth":                {desc: "Key that authenticates adverts.", required: true},
		"HA.virtual_mac":         {desc: "Answer for each group with the MAC 00:00:5e:00:01:<vhid>; false keeps the interface MAC and relies on gratuitous ARP.", def: true},
		"HA.groups":              {desc: "Redundancy groups and the VIPs that move with them.", required: true},
		"HA.health_checks":       {desc: "Checks whose failure demotes this node."},
		"HA.maintenance":         {desc: "Demote this node so the peer takes over; survives a reboot."},
		"HA.notify":              {desc: "What to run on a state change."},

		"HAAuth.key_id":     {desc: "Id of the current key, sent in each advert."},
		"HAAuth.passphrase": {desc: "Shared passphrase, at least 16 characters; or give key_file."},
		"HAAuth.key_file":   {desc: "File holding the key; or give passphrase."},
		"HAAuth.previous":   {desc: "Older keys still accepted during a key rotation."},

		"HAKey.key_id":     {desc: "Id of the older key; differs from the current one."},
		"HAKey.passphrase": {desc: "Passphrase of the older key, at least 16 characters; or key_file."},
		"HAKey.key_file":   {desc: "File holding the older key; or passphrase."},

		"Group.vhid":          {desc: "Virtual host id, unique per group, 1-255.", required: true, min: 1, max: 255},
		"Group.priority":      {desc: "Higher wins; 1-254. Give the nodes different priorities.", required: true, min: 1, max: 254},
		"Group.advbase":       {desc: "Advert interval, 10ms to 10s.", def: DefaultAdvBase.String()},
		"Group.preempt":       {desc: "Take the group back when this node has the higher priority.", def: true},
		"Group.preempt_delay": {desc: "Wait this long before preempting, so a rebooted node settles first."},
		"Group.vips":          {desc: "Virtual addresses of the group.", required: true},
		"Group.track":         {desc: "Interface roles whose loss of carrier demotes this node."},

		"VIP.interface": {desc: "Interface role the VIP lives on.", required: true},
		"VIP.address":   {desc: "Address with the prefix length of one of the interface's subnets.", required: true},

		"HealthCheck.name":     {desc: "Name shown in the UI and logs; unique.", required: true},
		"HealthCheck.type":     {desc: "tcp (connect), http (2xx), ping, or command (exit 0).", required: true, enum: []string{"tcp", "http", "ping", "command"}},
		"HealthCheck.target":   {desc: "host:port, URL, address or command line, by type.", required: true},
		"HealthCheck.interval": {desc: "Time between checks.", def: DefaultHealthInterval.String()},
		"HealthCheck.timeout":  {desc: "How long one check may take; at most the interval.", def: DefaultHealthTimeout.String()},
		"HealthCheck.demote":   {desc: "How much to lower the priority while the check fails.", def: DefaultDemote},

		"Notify.command": {desc: "Command run on each state change."},
		"Notify.webhook": {desc: "URL posted to on each state change."},

		"StateSync.enabled":       {desc: "Replicate connection state to the peer.", required: true},
		"StateSync.interface":     {desc: "Interface role of the sync link; required when enabled."},
		"StateSync.peer":          {desc: "Peer address on the sync link; required when enabled."},
		"StateSync.port":          {desc: "TCP port of the sync protocol (TLS 1.3, mutually authenticated).", def: DefaultStateSyncPort},
		"StateSync.secret":        {desc: "Shared secret, at least 16 characters; or key_file."},
		"StateSync.key_file":      {desc: "File holding the secret; or secret."},
		"StateSync.ignore":        {desc: "Networks whose connections are not replicated."},
		"StateSync.purge_timeout": {desc: "On ceasing to be master, shorten the kernel timeouts of synced connections to this; the peer carries them now.", def: DefaultPurgeTimeout.String()},

		"WebUI.port":            {desc: "HTTPS port.", def: DefaultWebUIPort},
		"WebUI.session_idle":    {desc: "Log out after this long without activity.", def: DefaultSessionIdle.String()},
		"WebUI.confirm_timeout": {desc: "Roll back a change that is not confirmed within this time.", def: DefaultConfirmTimeout.String()},
	}
}
