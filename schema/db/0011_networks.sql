-- 0011_networks.sql - networks, bonds, VLAN groups, VNICs and MAC ranges
-- (issue 6; docs/NETWORKS.md). Builds on 0003's networks and
-- ethernet_ports.
--
-- Ports: a PHYSICAL port (from discovery) or a BOND (made by ovmm) of one
-- server. A physical port in a bond has bond_port_id; a port or bond is
-- used by at most one of: a network (network_id), a VLAN group
-- (vlan_group_id), a bond (bond_port_id) -- the jobs check, with
-- messages. IP configuration per port: address_type NONE, DHCP or STATIC
-- (ip_address/netmask/gateway, IPv4 dotted quads).

CREATE TABLE vlan_groups (
    id    TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    mtu   INTEGER NOT NULL DEFAULT 1500
);

-- A VLAN of a group: at most one untagged segment per group (the jobs
-- check). A network uses a segment through networks.vlan_segment_id.
CREATE TABLE vlan_segments (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    vlan_group_id  TEXT NOT NULL REFERENCES vlan_groups(id) ON DELETE CASCADE,
    vlan_id        INTEGER NOT NULL CHECK (vlan_id BETWEEN 1 AND 4094),
    tagged         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (vlan_group_id, vlan_id)
);
CREATE INDEX vlan_segments_group ON vlan_segments (vlan_group_id);

ALTER TABLE ethernet_ports ADD COLUMN bond_mode TEXT
    CHECK (bond_mode IN ('ACTIVE_PASSIVE', 'LINK_AGGREGATION',
                         'LOAD_BALANCED'));
ALTER TABLE ethernet_ports ADD COLUMN bond_port_id TEXT
    REFERENCES ethernet_ports(id);
ALTER TABLE ethernet_ports ADD COLUMN vlan_group_id TEXT
    REFERENCES vlan_groups(id);
ALTER TABLE ethernet_ports ADD COLUMN address_type TEXT NOT NULL
    DEFAULT 'NONE' CHECK (address_type IN ('NONE', 'DHCP', 'STATIC'));
ALTER TABLE ethernet_ports ADD COLUMN ip_address TEXT;
ALTER TABLE ethernet_ports ADD COLUMN netmask TEXT;
ALTER TABLE ethernet_ports ADD COLUMN gateway TEXT;
CREATE INDEX ethernet_ports_bond ON ethernet_ports (bond_port_id);
CREATE INDEX ethernet_ports_vlan_group ON ethernet_ports (vlan_group_id);

-- The VLAN interface of a tagged segment on a port of its group
-- ("<port>.<vlan id>"), made and removed with them. network_id: the
-- network using the segment (kept in step by the network jobs).
CREATE TABLE vlan_interfaces (
    id               TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    vlan_segment_id  TEXT NOT NULL REFERENCES vlan_segments(id) ON DELETE CASCADE,
    ethernet_port_id TEXT NOT NULL REFERENCES ethernet_ports(id) ON DELETE CASCADE,
    vlan_id          INTEGER NOT NULL,
    interface_name   TEXT NOT NULL,
    network_id       TEXT REFERENCES networks(id) ON DELETE SET NULL,
    address_type     TEXT NOT NULL DEFAULT 'NONE'
        CHECK (address_type IN ('NONE', 'DHCP', 'STATIC')),
    ip_address       TEXT,
    netmask          TEXT,
    gateway          TEXT,
    UNIQUE (vlan_segment_id, ethernet_port_id)
);
CREATE INDEX vlan_interfaces_port ON vlan_interfaces (ethernet_port_id);
CREATE INDEX vlan_interfaces_network ON vlan_interfaces (network_id);

-- A network of type VLAN or hybrid uses one segment; bridge_name: the
-- bridge a VIRTUAL_MACHINE network has on each member server.
ALTER TABLE networks ADD COLUMN vlan_segment_id TEXT
    REFERENCES vlan_segments(id);
ALTER TABLE networks ADD COLUMN bridge_name TEXT;
CREATE UNIQUE INDEX networks_segment ON networks (vlan_segment_id)
    WHERE vlan_segment_id IS NOT NULL;

-- The Manager's VNIC MAC address ranges (48-bit values as integers,
-- inclusive); they must not overlap (the jobs check). The default is the
-- locally administered 02:21:f6:00:00:00 - 02:21:f6:ff:ff:ff.
CREATE TABLE mac_ranges (
    id         TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    start_mac  INTEGER NOT NULL,
    end_mac    INTEGER NOT NULL,
    start_address TEXT NOT NULL,   -- the same, "xx:xx:xx:xx:xx:xx"
    end_address   TEXT NOT NULL,
    CHECK (start_mac >= 0 AND end_mac <= 281474976710655 AND
           start_mac <= end_mac)
);

INSERT INTO objects (id, type, name, description, created_ms, modified_ms)
VALUES ('0004fb0000a10000000000000000d3f0', 'MacRange', 'Default',
        'locally administered addresses of this Manager', 0, 0);
INSERT INTO mac_ranges (id, start_mac, end_mac, start_address, end_address)
VALUES ('0004fb0000a10000000000000000d3f0', 2344884371456, 2344901148671,
        '02:21:f6:00:00:00', '02:21:f6:ff:ff:ff');

-- A VM's virtual network card. mac_int: the MAC as a 48-bit integer
-- (unique, so two VNICs never share an address); slot: its position in
-- the VM (0..30).
CREATE TABLE virtual_nics (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    vm_id          TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
    network_id     TEXT REFERENCES networks(id) ON DELETE SET NULL,
    mac_address    TEXT NOT NULL,
    mac_int        INTEGER NOT NULL UNIQUE,
    slot           INTEGER NOT NULL,
    interface_name TEXT NOT NULL DEFAULT '',
    UNIQUE (vm_id, slot)
);
CREATE INDEX virtual_nics_network ON virtual_nics (network_id);

CREATE TRIGGER vlan_groups_gone AFTER DELETE ON vlan_groups
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER vlan_segments_gone AFTER DELETE ON vlan_segments
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER vlan_interfaces_gone AFTER DELETE ON vlan_interfaces
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER mac_ranges_gone AFTER DELETE ON mac_ranges
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER virtual_nics_gone AFTER DELETE ON virtual_nics
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
