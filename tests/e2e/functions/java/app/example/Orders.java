package example;

import com.amazonaws.services.lambda.runtime.Context;
import java.util.List;

public class Orders {
    public static class Line {
        private String sku;
        private int quantity;

        public String getSku() { return sku; }
        public void setSku(String sku) { this.sku = sku; }
        public int getQuantity() { return quantity; }
        public void setQuantity(int quantity) { this.quantity = quantity; }
    }

    public static class Order {
        public String id;
        public List<Line> lines;
        public boolean rush;
    }

    public static class Receipt {
        private final String orderId;
        private final int items;
        private final String note;

        Receipt(String orderId, int items, String note) {
            this.orderId = orderId;
            this.items = items;
            this.note = note;
        }

        public String getOrderId() { return orderId; }
        public int getItems() { return items; }
        public String getNote() { return note; }
        public boolean isRush() { return items > 2; }
    }

    public Receipt handle(Order order, Context context) {
        int items = 0;
        for (Line l : order.lines) {
            items += l.getQuantity();
        }
        return new Receipt(order.id, items, null);
    }

    public static String shout(String text) {
        return text.toUpperCase() + "!";
    }

    public String fail(Object input) {
        try {
            Integer.parseInt("not a number");
        } catch (NumberFormatException e) {
            throw new IllegalStateException("order rejected", e);
        }
        return "unreachable";
    }

    public String greet(String name) {
        return layer.Greeter.greet(name);
    }
}
