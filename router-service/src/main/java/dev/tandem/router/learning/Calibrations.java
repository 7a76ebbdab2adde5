package dev.tandem.router.learning;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.calibration.CalibrationMap;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamStatus;

/**
 * The confidence calibration of every audit stream (worker backend x worker type x tenant), as the audit service
 * fits and publishes it on {@code StreamStatus.calibration}, applied with the same code the audit service fits it
 * with ({@link CalibrationMap}, module {@code calibration}); the router fits nothing itself. A dispatch for a tenant
 * uses that tenant's stream's map, else the shared stream's (tenant ""), as the audit service decides on the
 * tenant's stream only when it keeps one; no map, the raw confidence is used as is.
 */
@ApplicationScoped
public class Calibrations {

    /** A calibrated confidence and the map it came from (null when none applied). */
    public record Applied(double calibrated, double raw, CalibrationMap map, String stream) {
    }

    private final AtomicReference<Map<String, CalibrationMap>> maps = new AtomicReference<>(Map.of());

    /** Replaces every map with those the streams carry; streams without knots have none. */
    public int replaceAll(List<StreamStatus> streams) {
        Map<String, CalibrationMap> next = new HashMap<>();
        for (StreamStatus s : streams) {
            StreamKey key = AuditStreamKeys.of(s);
            if (!s.hasCalibration() || s.getCalibration().getKnotsCount() == 0) {
                continue;
            }
            CalibrationMap map = toMap(s.getCalibration());
            if (map != null) {
                next.put(key(key.getWorkerBackend(), key.getWorkerType(), key.getTenant()), map);
            }
        }
        maps.set(Map.copyOf(next));
        return next.size();
    }

    /** Applies the stream's map to a raw confidence; no map, the raw value. */
    public Applied apply(String model, String workerType, String tenant, double raw) {
        Map<String, CalibrationMap> current = maps.get();
        String stream = key(model, workerType, tenant == null ? "" : tenant);
        CalibrationMap map = current.get(stream);
        if (map == null && tenant != null && !tenant.isEmpty()) {
            stream = key(model, workerType, "");
            map = current.get(stream);
        }
        if (map == null) {
            return new Applied(raw, raw, null, null);
        }
        return new Applied(clamp(map.apply(raw)), raw, map, stream);
    }

    public Map<String, CalibrationMap> snapshot() {
        return maps.get();
    }

    /** The shared map of a published calibration (knots sorted, values clamped to [0, 1]). */
    static CalibrationMap toMap(Calibration c) {
        List<CalibrationKnot> knots = new ArrayList<>(c.getKnotsList());
        knots.sort((a, b) -> Double.compare(clamp(a.getRaw()), clamp(b.getRaw())));
        double[] raw = new double[knots.size()];
        double[] cal = new double[knots.size()];
        for (int i = 0; i < knots.size(); i++) {
            raw[i] = clamp(knots.get(i).getRaw());
            cal[i] = clamp(knots.get(i).getCalibrated());
        }
        String method = c.getMethod().name().replace("CALIBRATION_METHOD_", "").toLowerCase(Locale.ROOT);
        Instant fittedAt = c.hasFittedAt()
                ? Instant.ofEpochSecond(c.getFittedAt().getSeconds(), c.getFittedAt().getNanos()) : null;
        return new CalibrationMap(method, raw, cal, c.getSamples(), c.getEceRaw(), c.getEceCalibrated(),
                c.getBrierRaw(), c.getBrierCalibrated(), 0, fittedAt);
    }

    private static double clamp(double v) {
        return Double.isNaN(v) ? 0 : Math.max(0, Math.min(1, v));
    }

    static String key(String model, String workerType, String tenant) {
        return model + "\n" + workerType + "\n" + tenant;
    }
}
