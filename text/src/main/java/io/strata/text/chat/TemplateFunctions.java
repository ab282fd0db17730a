package io.strata.text.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * The global functions Hugging Face gives chat templates: {@code raise_exception(msg)} (a template refusing a
 * conversation, e.g. roles that do not alternate) and {@code strftime_now(fmt)} (today's date in GPT-OSS's system
 * message). Public only because Jinjava binds functions to public static methods.
 */
final class TemplateFunctions {
    /** Context variable holding the render's clock reading, so tests and reproducible prompts can fix the date. */
    static final String NOW = "__strata_now";

    private TemplateFunctions() {
    }

    /** What {@code raise_exception} throws; ChatTemplate turns it into a TokenizerException with the message. */
    static final class Raised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Raised(String message) {
            super(message);
        }
    }

    public static Object raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    public static String strftimeNow(String format) {
        JinjavaInterpreter in = JinjavaInterpreter.getCurrent();
        Object now = in == null ? null : in.getContext().get(NOW);
        return strftime(now instanceof ZonedDateTime z ? z : ZonedDateTime.now(), format);
    }

    /** The common strftime directives (%Y %m %d %e %H %M %S %B %b %A %a %y %j %p %I %%); others stay as written. */
    static String strftime(ZonedDateTime t, String f) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c != '%' || i + 1 == f.length()) {
                b.append(c);
                continue;
            }
            char d = f.charAt(++i);
            switch (d) {
                case 'Y' -> b.append(String.format("%04d", t.getYear()));
                case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> b.append(String.format("%02d", t.getMonthValue()));
                case 'd' -> b.append(String.format("%02d", t.getDayOfMonth()));
                case 'e' -> b.append(String.format("%2d", t.getDayOfMonth()));
                case 'j' -> b.append(String.format("%03d", t.getDayOfYear()));
                case 'H' -> b.append(String.format("%02d", t.getHour()));
                case 'I' -> b.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                case 'M' -> b.append(String.format("%02d", t.getMinute()));
                case 'S' -> b.append(String.format("%02d", t.getSecond()));
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case '%' -> b.append('%');
                default -> b.append('%').append(d);
            }
        }
        return b.toString();
    }
}
