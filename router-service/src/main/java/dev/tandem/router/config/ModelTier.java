package dev.tandem.router.config;

import dev.tandem.proto.router.v1.Tier;

/** Capability tiers in ascending order; a cascade climbs them up to the oracle. */
public enum ModelTier {
    SMALL(Tier.TIER_SMALL),
    MEDIUM(Tier.TIER_MEDIUM),
    LARGE(Tier.TIER_LARGE),
    ORACLE(Tier.TIER_ORACLE);

    private final Tier proto;

    ModelTier(Tier proto) {
        this.proto = proto;
    }

    public Tier toProto() {
        return proto;
    }

    /** The tier of a proto value; null for unspecified (no minimum). */
    public static ModelTier fromProto(Tier tier) {
        for (ModelTier t : values()) {
            if (t.proto == tier) {
                return t;
            }
        }
        return null;
    }

    public boolean atLeast(ModelTier other) {
        return other == null || ordinal() >= other.ordinal();
    }
}
