package dev.tandem.models.chat;

/** Whether a model can take calls now, and why not. Never contains a secret. */
public record Availability(boolean available, String detail) {

    public static Availability up(String detail) {
        return new Availability(true, detail);
    }

    public static Availability down(String detail) {
        return new Availability(false, detail);
    }
}
