/** The {@code strata} command line: an application, so it exports nothing. */
module io.strata.tools {
    requires java.logging;
    requires io.strata.core;
    requires io.strata.storage;
    requires io.strata.kernels;
    requires io.strata.loader;
    requires io.strata.p2p;
    requires io.strata.text;
    requires io.strata.server;
    requires me.tongfei.progressbar;
    requires io.strata.nativeaccess;
    requires info.picocli;
    requires org.bouncycastle.provider; // bench hash: the BLAKE3 oracle
    requires jdk.management;
    requires jdk.unsupported; // O_DIRECT reads in bench paging

    opens io.strata.tools to info.picocli;
    opens io.strata.tools.commands to info.picocli;
}
